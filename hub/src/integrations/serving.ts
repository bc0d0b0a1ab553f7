import { existsSync } from 'node:fs';
import { permissionsDigest } from '@sonde/pack-sdk';
import { installVerifiedPack, storePath, verifyInstalled } from '@sonde/registry';
import type { IntegrationPackVersionRecord } from '../store/types.js';
import { archiveDir, unpackArchive } from './archive.js';
import { SYSTEM, type IntegrationDeps } from './context.js';
import type { InstanceTargets } from './instance-targets.js';
import { refusalOf } from './refusal.js';
import type { IntegrationTrust } from './trust.js';
import type { ActivePack, Actor, Refusal } from './types.js';

/**
 * Which integration packs serve: at every load (hub start, reload, a new revocation list, an approval) every
 * installed version is verified again against the trust store, and only an approved version that still verifies,
 * with the permissions that were approved, serves. Everything else is refused with the reason.
 */
export class ServingPacks {
  private readonly active = new Map<string, ActivePack>();
  /** Refusals by `name` (the approved version) and `name@version` (any version). */
  private readonly refusals = new Map<string, Refusal>();
  private loading: Promise<void> | undefined;
  /** Where this hub found each version's files (`name@version`): its own copy, or the folder it was installed into. */
  private readonly dirs = new Map<string, string>();
  /** Versions (`name@version`) whose files this hub knows are in the database. */
  private readonly shared = new Set<string>();

  constructor(
    private readonly deps: IntegrationDeps,
    private readonly trust: IntegrationTrust,
    private readonly targets: InstanceTargets,
  ) {}

  /** Re-reads the trust store and verifies every installed version again (hub start and `POST …/reload`). */
  load(reason: 'start' | 'reload' = 'reload', actor: Actor = SYSTEM): Promise<void> {
    const run = (this.loading ?? Promise.resolve()).then(() => this.loadNow(reason, actor));
    this.loading = run.catch(() => undefined);
    return run;
  }

  private async loadNow(reason: string, actor: Actor): Promise<void> {
    await this.trust.read();
    const { integrations } = this.deps.options.store;
    const before = new Map(this.active);
    this.active.clear();
    this.refusals.clear();
    await this.targets.refresh();
    for (const pack of await integrations.listPacks()) {
      for (const version of await integrations.listVersions(pack.name)) {
        const refusal = await this.verifyStored(version);
        const isApproved = version.version === pack.approvedVersion;
        if (refusal) {
          this.refusals.set(`${version.name}@${version.version}`, refusal);
          if (isApproved) this.refusals.set(pack.name, refusal);
          await this.deps.audit(actor, {
            action: 'integration.refused',
            status: 'error',
            params: { pack: version.name, version: version.version, code: refusal.code, file: refusal.file ?? null, at: reason },
            detail: `${refusal.code}: ${refusal.reason}`.slice(0, 1000),
          });
          this.deps.options.log.warn({ pack: version.name, version: version.version, code: refusal.code }, 'integration pack refused');
          continue;
        }
        if (isApproved) {
          if (version.permissionsDigest !== pack.approvedDigest) {
            const mismatch: Refusal = {
              code: 'SONDE_ERR_PACK_MANIFEST_MISMATCH',
              reason: `${pack.name}@${version.version} declares other permissions than were approved; approve it again`,
            };
            this.refusals.set(pack.name, mismatch);
            continue;
          }
          this.active.set(pack.name, {
            name: pack.name,
            version: version.version,
            packageName: version.packageName,
            dir: this.dirs.get(`${version.name}@${version.version}`) ?? version.dir,
            manifest: version.manifest,
            digest: version.permissionsDigest,
            approvedAt: pack.approvedAt ?? '',
          });
        }
      }
    }
    // Instances of packs that stopped serving (or changed version) lose their process.
    for (const [name, previous] of before) {
      const now = this.active.get(name);
      if (!now || now.version !== previous.version || now.digest !== previous.digest) await this.deps.runners.closePack(name);
    }
  }

  /** The stored version still verifies, with the integrity and manifest recorded at install. */
  async verifyStored(version: IntegrationPackVersionRecord): Promise<Refusal | undefined> {
    const dir = await this.localDir(version);
    if (typeof dir !== 'string') return dir;
    this.dirs.set(`${version.name}@${version.version}`, dir);
    const result = await verifyInstalled(dir, this.trust.current);
    if (!result.ok) return this.trust.withHint(refusalOf(result));
    if (result.integrity !== version.integrity || result.pack !== version.name || result.version !== version.version)
      return {
        code: 'SONDE_ERR_PACK_FILE_CHANGED',
        reason: `${version.dir} now holds ${result.packageName}@${result.version} (${result.integrity}), not what was installed (${version.integrity})`,
      };
    if (permissionsDigest(result.manifest.permissions) !== version.permissionsDigest)
      return {
        code: 'SONDE_ERR_PACK_MANIFEST_MISMATCH',
        reason: `${version.dir}: the signed permissions differ from those recorded at install`,
      };
    await this.share(version, dir);
    return undefined;
  }

  /**
   * A version installed before its files went into the database (schema 6) is shared by the first hub that still has
   * them and has just verified them (signature, integrity recorded at install, permissions): they go into the
   * database as an install would have put them, so the other hubs load it without anyone installing it again. Hubs
   * sharing at once write the same verified files.
   */
  private async share(version: IntegrationPackVersionRecord, dir: string): Promise<void> {
    const key = `${version.name}@${version.version}`;
    if (this.shared.has(key)) return;
    const { integrations } = this.deps.options.store;
    if ((await integrations.getArchive(version.name, version.version)) === undefined) {
      const archive = await archiveDir(dir);
      await this.deps.options.store.transaction(async (tx) => {
        // Removed meanwhile (by another hub): nothing to share.
        if (!(await tx.integrations.getVersion(version.name, version.version))) return;
        await tx.integrations.putArchive(version.name, version.version, archive);
        await this.deps.audit(
          SYSTEM,
          {
            action: 'integration.share',
            status: 'ok',
            params: { pack: version.name, version: version.version, integrity: version.integrity },
            detail: 'installed before the files went into the database; verified again and stored for every hub',
          },
          tx,
        );
      });
      this.deps.options.log.info({ pack: version.name, version: version.version }, 'integration pack files shared through the database');
    }
    this.shared.add(key);
  }

  /**
   * Where this hub finds a version's files: its own copy under its packs folder (the installing hub wrote it there),
   * written from the archive every install stores in the database when it is not there yet (several hubs, each with
   * its own folder, issue 23); a version installed before archives existed serves from the folder it was installed
   * into (and once verified goes into the database, `share`). Either way the caller verifies the files again.
   */
  private async localDir(version: IntegrationPackVersionRecord): Promise<string | Refusal> {
    const local = storePath(this.deps.storeDir, version.packageName, version.version);
    if (existsSync(local)) return local;
    const missing: Refusal = {
      code: 'SONDE_ERR_PACK_FILE_REMOVED',
      reason: `${version.dir} is missing; install ${version.packageName}@${version.version} again`,
    };
    const archive = await this.deps.options.store.integrations.getArchive(version.name, version.version);
    // Installed before the files went into the database: only the folder it was installed into can serve it.
    if (!archive) return existsSync(version.dir) ? version.dir : missing;
    this.shared.add(`${version.name}@${version.version}`);
    let unpacked: { dir: string; cleanup: () => void };
    try {
      unpacked = unpackArchive(archive);
    } catch (error) {
      return {
        code: 'SONDE_ERR_PACK_MALFORMED',
        reason: `the stored files of ${version.name}@${version.version} are unreadable: ${String(error)}`,
      };
    }
    try {
      const installed = await installVerifiedPack(this.deps.storeDir, { dir: unpacked.dir }, this.trust.current);
      if (!installed.ok) return this.trust.withHint(refusalOf(installed));
      this.deps.options.log.info(
        { pack: version.name, version: version.version, dir: installed.dir },
        'integration pack written from the database',
      );
      return installed.dir;
    } catch (error) {
      return { code: 'SONDE_ERR_PACK_MALFORMED', reason: error instanceof Error ? error.message : String(error) };
    } finally {
      unpacked.cleanup();
    }
  }

  activePacks(): ActivePack[] {
    return [...this.active.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  activePack(name: string): ActivePack | undefined {
    return this.active.get(name);
  }

  /** Why `name` (the pack) or `name@version` does not serve, if it was refused at the last load or install. */
  refusal(key: string): Refusal | undefined {
    return this.refusals.get(key);
  }

  /** A version installed again is judged afresh at the next load. */
  forgetRefusal(key: string): void {
    this.refusals.delete(key);
  }

  /** A removed pack serves no more, and its refusal goes with it. */
  forget(name: string): void {
    this.active.delete(name);
    this.refusals.delete(name);
    for (const key of this.shared) if (key.startsWith(`${name}@`)) this.shared.delete(key);
  }

  async unavailableReason(packName: string): Promise<string> {
    const refusal = this.refusals.get(packName);
    if (refusal) return `pack ${packName} is refused (${refusal.code}: ${refusal.reason})`;
    if (!(await this.deps.options.store.integrations.getPack(packName))) return `pack ${packName} is not installed`;
    return `pack ${packName} has no approved version serving; an admin approves it with POST /api/v1/integrations/packs/${packName}/approve`;
  }

  /** Waits for a load under way (the service closes after it). */
  async settled(): Promise<void> {
    await this.loading;
  }
}
