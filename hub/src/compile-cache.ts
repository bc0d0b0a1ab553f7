import { lstatSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Owned by this user and writable by nobody else (root aside): what may hold code this process will run. */
function ownedPrivately(dir: string): boolean {
  const info = lstatSync(dir);
  const uid = process.getuid?.();
  return info.isDirectory() && (uid === undefined || info.uid === uid) && (info.mode & 0o022) === 0;
}

/**
 * Turns on Node's compile cache (22.1+; Node 20 has none and nothing happens) in `~/.cache/sonde-hub`.
 * V8 runs the code it finds in that cache, so it must be as private as the hub's database: never Node's
 * default (a shared folder under /tmp that another local user could create first), only under a home
 * directory that is this user's own and closed to others, in folders made 0700. Anything else and the hub
 * starts without a cache. `NODE_COMPILE_CACHE` (Node's own variable) still picks another folder.
 */
export function enablePrivateCompileCache(enable: ((dir: string) => unknown) | undefined, home: string = os.homedir()): string | undefined {
  if (!enable) return undefined;
  try {
    if (!ownedPrivately(home)) return undefined;
    let dir = home;
    for (const segment of ['.cache', 'sonde-hub']) {
      dir = path.join(dir, segment);
      mkdirSync(dir, { mode: 0o700, recursive: true });
      if (!ownedPrivately(dir)) return undefined;
    }
    enable(dir);
    return dir;
  } catch {
    return undefined;
  }
}
