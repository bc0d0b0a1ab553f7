import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_MANIFEST, readPackProcessBundle, type PackProcessBundle } from '@sonde/pack-sdk/sandbox';

/** Where agent/scripts/bundle-pack-process.mjs writes the bundle, inside the agent package. */
export const PACK_PROCESS_DIR = 'dist/pack-process';

/** The agent package's folder: this module lies in src/sandbox, dist/sandbox or, bundled, dist/sonde. */
function agentPackageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === '@sonde/agent') return dir;
  }
  return undefined;
}

const mtime = (file: string): number | undefined => statSync(file, { throwIfNoEntry: false })?.mtimeMs;

/**
 * The agent's pack-process bundle (`dist/pack-process/`: the runner, pack-sdk and zod in a few files; built with the
 * agent and, in a release, signed with it like every file under dist/), which pack processes run instead of loading
 * pack-sdk and zod file by file. Undefined when the package has none, or when pack-sdk's TypeScript build in a source
 * checkout is newer than it (as dist/cli.js judges the CLI's bundle: a runner older than the agent's side of the
 * channel must not run); pack processes then run pack-sdk's own dist/sandbox/child.js with copies, as before.
 * A bundle whose description is unreadable or malformed is an error: the installation is broken.
 */
export function packProcessBundle(root: string | undefined = agentPackageRoot()): PackProcessBundle | undefined {
  if (!root) return undefined;
  const dir = path.join(root, PACK_PROCESS_DIR);
  const built = mtime(path.join(dir, BUNDLE_MANIFEST));
  if (built === undefined) return undefined;
  const compiled = mtime(path.join(root, '../pack-sdk/dist/.tsbuildinfo'));
  if (compiled !== undefined && compiled > built) return undefined;
  return readPackProcessBundle(dir);
}
