import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = '@sonde/pack-sdk';

function isSdkRoot(dir: string): boolean {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === NAME;
  } catch {
    return false;
  }
}

let cached: string | undefined;

/**
 * The real path of the installed @sonde/pack-sdk package (holds package.json and dist/). This module lies two levels
 * below it (src/sandbox or dist/sandbox) in the package itself; bundled into a program (the agent's dist/sonde/,
 * agent/scripts/bundle.mjs) it does not, and the package is the one Node resolves from the program's file, as any
 * import of it from there would. Used to vendor the SDK into the packs folder and to find the pack process's entry
 * (dist/sandbox/child.js), so a bundled agent starts pack processes from the same file under the same grant.
 */
export function sdkPackageRoot(): string {
  if (cached) return cached;
  const here = fileURLToPath(import.meta.url);
  const beside = path.resolve(path.dirname(here), '../..');
  if (isSdkRoot(beside)) return (cached = realpathSync(beside));
  const entry = createRequire(here).resolve(NAME);
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    if (isSdkRoot(dir)) return (cached = realpathSync(dir));
    if (path.dirname(dir) === dir) throw new Error(`cannot find the ${NAME} package root from ${entry}`);
  }
}
