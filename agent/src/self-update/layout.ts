import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type Semver from 'semver';
import { z } from 'zod';
import { requireCjs } from '../cjs.js';
import { AgentError } from '../errors.js';
import { readJsonFile, writePrivateFile, type HomePaths } from '../home.js';

const semver = requireCjs('semver') as typeof Semver;

/**
 * Side-by-side releases in SONDE_HOME:
 *
 *   releases/0.2.0/          one verified @sonde/agent package per version
 *   releases/0.3.0/
 *   releases/current -> 0.3.0   what the service runs (switched by renaming a temporary symlink over it)
 *   update-state.json        versions that failed (never retried without --retry) and the outcome history
 */
export interface ReleaseLayout {
  releases: string;
  current: string;
  state: string;
  lock: string;
}

export function releaseLayout(paths: HomePaths): ReleaseLayout {
  const releases = path.join(paths.home, 'releases');
  return {
    releases,
    current: path.join(releases, 'current'),
    state: path.join(paths.home, 'update-state.json'),
    lock: path.join(releases, '.update.lock'),
  };
}

/** The shape of a release folder's name: a semver version as written (`1.2.3`, `2.0.0-rc.1`; no `v`, no spaces). */
const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

export function isVersion(value: string): boolean {
  return VERSION.test(value);
}

/** Semver precedence (major.minor.patch, then prerelease identifiers; build metadata ignored), by the one semver library. */
export function compareVersions(a: string, b: string): number {
  if (!isVersion(a) || !isVersion(b)) throw new AgentError('SONDE_ERR_UPDATE_REFUSED', `not a semver version: ${isVersion(a) ? b : a}`);
  return semver.compare(a, b);
}

/** The version `current` points at, or undefined when there is no release layout yet. */
export function currentRelease(layout: ReleaseLayout): string | undefined {
  let info;
  try {
    info = lstatSync(layout.current);
  } catch {
    return undefined;
  }
  if (!info.isSymbolicLink()) {
    throw new AgentError('SONDE_ERR_UPDATE_FAILED', `${layout.current} is not a symlink; move it away (the release layout owns it).`);
  }
  const target = readlinkSync(layout.current);
  const version = path.basename(target);
  return isVersion(version) && path.dirname(path.resolve(layout.releases, target)) === layout.releases ? version : undefined;
}

/** Points `current` at `version` atomically: a new symlink under a temporary name, renamed over the old one. */
export function switchCurrent(layout: ReleaseLayout, version: string): void {
  const temp = path.join(layout.releases, `.current-${process.pid}-${randomBytes(4).toString('hex')}`);
  symlinkSync(version, temp);
  try {
    renameSync(temp, layout.current);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export const FailedVersionSchema = z
  .object({ version: z.string(), integrity: z.string().optional(), code: z.string(), reason: z.string(), at: z.string() })
  .strict();

export const UpdateActionSchema = z.enum(['updated', 'refused', 'failed', 'downgrade-refused']);

export const HistoryEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    action: UpdateActionSchema,
    from: z.string().nullable(),
    to: z.string().nullable(),
    integrity: z.string().optional(),
    keyId: z.string().optional(),
    code: z.string().optional(),
    reason: z.string().optional(),
    durationMs: z.number(),
    /** Appended to a running agent's audit ring (at its next start, see replayUpdateAudit). */
    audited: z.boolean().default(false),
  })
  .strict();

export const UpdateStateSchema = z
  .object({
    failed: z.array(FailedVersionSchema).default([]),
    history: z.array(HistoryEntrySchema).default([]),
  })
  .strict();

export type UpdateState = z.infer<typeof UpdateStateSchema>;
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;
export type FailedVersion = z.infer<typeof FailedVersionSchema>;

const HISTORY_KEPT = 100;

export function readUpdateState(layout: ReleaseLayout): UpdateState {
  if (!existsSync(layout.state)) return { failed: [], history: [] };
  let raw: unknown;
  try {
    raw = readJsonFile(layout.state);
  } catch (error) {
    throw new AgentError('SONDE_ERR_UPDATE_FAILED', `${layout.state} is not JSON (${(error as Error).message}); fix or remove it.`);
  }
  const parsed = UpdateStateSchema.safeParse(raw);
  if (!parsed.success) throw new AgentError('SONDE_ERR_UPDATE_FAILED', `${layout.state}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function writeUpdateState(layout: ReleaseLayout, state: UpdateState): void {
  const trimmed = { ...state, history: state.history.slice(-HISTORY_KEPT) };
  writePrivateFile(layout.state, `${JSON.stringify(trimmed, null, 2)}\n`);
}

/**
 * One update at a time: an exclusive lock file holding the pid; a lock left by
 * a process that no longer exists is taken over.
 */
export function acquireLock(layout: ReleaseLayout): () => void {
  mkdirSync(layout.releases, { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(layout.lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(layout.lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(layout.lock, 'utf8'), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new AgentError('SONDE_ERR_UPDATE_BUSY', `process ${holder} holds ${layout.lock}.`);
      }
      rmSync(layout.lock, { force: true });
    }
  }
  throw new AgentError('SONDE_ERR_UPDATE_BUSY', `cannot take ${layout.lock}.`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
