import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openHubCore } from '../core.js';
import { anchorFileFor } from '../audit/anchor.js';
import { HubError } from '../errors.js';
import type { AuditEntryInput } from '../services.js';

export interface RestoreOptions {
  from: string;
  /** SONDE_DB_PATH: where the hub will find the restored database. */
  dbPath: string;
  secret: string;
  /** Replace an existing database (moved aside, never deleted). */
  force: boolean;
  actor: AuditEntryInput['actor'];
}

export interface RestoreResult {
  file: string;
  /** Where the database that was there before went (with --force). */
  previous?: string;
  auditEntries: number;
  durationMs: number;
}

/**
 * Puts a backup in place as the hub's database, checked before it goes there:
 * the copy is opened with SONDE_SECRET (another secret fails here, exit 3,
 * and nothing is written), migrated to this hub's schema, and its audit chain
 * verified in full; only then is it renamed to SONDE_DB_PATH. The database
 * that was there is moved aside, never deleted. Run it with the hub stopped.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const from = path.resolve(options.from);
  const target = path.resolve(options.dbPath);
  if (!existsSync(from)) throw new HubError('SONDE_ERR_VALIDATION', `there is no backup at ${from}`);
  if (from === target) throw new HubError('SONDE_ERR_VALIDATION', 'the backup is the database itself');
  if (existsSync(target) && !options.force) {
    throw new HubError(
      'SONDE_ERR_CONFLICT',
      `${target} exists: stop the hub, then pass --force to replace it (it is moved aside, not deleted)`,
    );
  }
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const staging = `${target}.restoring-${process.pid}`;
  const removeStaging = (): void => {
    for (const suffix of ['', '-wal', '-shm', '.audit-anchor']) rmSync(`${staging}${suffix}`, { force: true });
  };
  removeStaging();
  copyFileSync(from, staging);
  chmodSync(staging, 0o600);
  let auditEntries = 0;
  try {
    const core = await openHubCore({ dbPath: staging, secret: options.secret, ca: false });
    try {
      const verified = await core.audit.verify({ full: true });
      if (!verified.ok) {
        throw new HubError(
          'SONDE_ERR_AUDIT_BROKEN',
          `the backup's audit chain does not verify (first broken entry ${verified.firstBrokenSeq}: ${verified.reason}); nothing was restored`,
        );
      }
      auditEntries = verified.lastSeq;
      await core.audit.append({
        action: 'hub.restore',
        actor: options.actor,
        status: 'ok',
        detail: `restored from ${path.basename(from)}: ${verified.lastSeq} audit entries verified`,
      });
    } finally {
      await core.close();
    }
  } catch (error) {
    removeStaging();
    throw error;
  }
  let previous: string | undefined;
  if (existsSync(target)) {
    previous = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(target, previous);
    // The anchor belongs to the database it anchored: it goes aside with it, and the restored one gets its own.
    for (const suffix of ['-wal', '-shm', '.audit-anchor'])
      if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${previous}${suffix}`);
  }
  const stagedAnchor = anchorFileFor(staging);
  const targetAnchor = anchorFileFor(target);
  if (stagedAnchor && targetAnchor && existsSync(stagedAnchor)) renameSync(stagedAnchor, targetAnchor);
  renameSync(staging, target);
  removeStaging();
  return { file: target, previous, auditEntries, durationMs: Math.round(performance.now() - started) };
}
