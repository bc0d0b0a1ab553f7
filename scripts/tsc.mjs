// The TypeScript compiler the build and scripts/check.mjs run: the native TypeScript 7 one (package.json's
// typescript-native) on one thread, with its arguments. A node_modules installed before that package was added (a
// worktree that copied an older install) has only TypeScript 5.9: then it says so in one line and runs 5.9, which
// checks the same and emits the same JavaScript, only slower, rather than failing the build. `npm ci` installs both.
//
//   node scripts/tsc.mjs -b tsconfig.build.json
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const native = path.join(root, 'node_modules/typescript-native/bin/tsc');

/** The command line for `args`: the native compiler single-threaded (its checker threads repeat work), else 5.9. */
export function tscCommand(args) {
  if (existsSync(native)) return [process.execPath, native, ...args, '--singleThreaded'];
  process.stderr.write('scripts/tsc.mjs: typescript-native is not installed (run npm ci): using TypeScript 5.9\n');
  return [process.execPath, path.join(root, 'node_modules/typescript/bin/tsc'), ...args];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, ...args] = tscCommand(process.argv.slice(2));
  const result = spawnSync(command, args, { cwd: process.cwd(), stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
