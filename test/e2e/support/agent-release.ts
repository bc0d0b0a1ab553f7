import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { newKeyFile, writeKeyFile } from '@sonde/registry';

/**
 * An agent release built by scripts/release-agent.mjs (the real agent, every dependency bundled, signed), cached
 * under node_modules/.cache by the content it is built from: building one takes npm several seconds of CPU, so
 * .ci/run builds it once beside the type-check (a core is idle there) and test/e2e/agent-update.test.ts reuses it.
 * Any change to the agent, the SDK, the registry package, the release scripts or the lockfile changes the key, so
 * a stale release is never used; the signing key is made with the release and kept beside it.
 */
const REPO = path.resolve(import.meta.dirname, '../../..');
const CACHE = path.join(REPO, 'node_modules/.cache/sonde-agent-release');
const run = promisify(execFile);

/** What a release is built from: these packages' files (not their node_modules), the release scripts and the lockfile. */
const INPUTS = ['agent', 'pack-sdk', 'registry', 'scripts/release-agent.mjs', 'scripts/release-packages.mjs', 'package-lock.json'];

function hashInto(hash: ReturnType<typeof createHash>, file: string): void {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return; // removed while walking (a test's scratch file): not part of any release
  if (stat.isDirectory()) {
    for (const entry of readdirSync(file).sort()) {
      if (entry === 'node_modules' || entry.endsWith('.tsbuildinfo')) continue;
      hashInto(hash, path.join(file, entry));
    }
    return;
  }
  hash.update(`${path.relative(REPO, file)}\0${stat.size}\0`);
  hash.update(readFileSync(file));
}

/** The content key of a release of `version` built from this checkout as it is now. */
export function releaseKey(version: string): string {
  const hash = createHash('sha256').update(`${version}\0`);
  for (const input of INPUTS) hashInto(hash, path.join(REPO, input));
  return hash.digest('hex').slice(0, 24);
}

export interface AgentRelease {
  /** The signed `@sonde/agent` tarball (read it; copy it before changing it). */
  tarball: string;
  /** The release key it is signed with (sonde-registry key file, private part included). */
  keyFile: string;
  /** Whether it came from the cache (false: built just now). */
  cached: boolean;
}

/** The release of `version` for this checkout: from the cache when one was built from the same content, else built now. */
export async function agentRelease(version: string): Promise<AgentRelease> {
  const dir = path.join(CACHE, `${version}-${releaseKey(version)}`);
  const result = (cached: boolean): AgentRelease => ({
    tarball: path.join(dir, `sonde-agent-${version}.tgz`),
    keyFile: path.join(dir, 'release-key.json'),
    cached,
  });
  if (existsSync(path.join(dir, 'done'))) return result(true);
  mkdirSync(CACHE, { recursive: true });
  // Built in a folder of its own and renamed into place: a reader never sees half a release, and two builders
  // at once (CI's warm-up and a test) both end with a complete one.
  const work = mkdtempSync(path.join(CACHE, '.building-'));
  try {
    const keyFile = path.join(work, 'release-key.json');
    await writeKeyFile(keyFile, newKeyFile({ publisher: 'sonde' }));
    await run(
      process.execPath,
      [path.join(REPO, 'scripts/release-agent.mjs'), '--key', keyFile, '--version', version, '--out', work, '--dry-run', '--json'],
      { cwd: REPO, timeout: 300_000 },
    );
    writeFileSync(path.join(work, 'done'), `${new Date().toISOString()}\n`);
    try {
      renameSync(work, dir);
    } catch (error) {
      // Another builder finished first: its release is as good as this one.
      if (!existsSync(path.join(dir, 'done'))) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return result(false);
}
