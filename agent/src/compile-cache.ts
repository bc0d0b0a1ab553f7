import { lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** Owned by this user and writable by nobody else (root aside): what may hold code this process will run. */
function ownedPrivately(dir: string): boolean {
  const info = lstatSync(dir);
  const uid = process.getuid?.();
  return info.isDirectory() && (uid === undefined || info.uid === uid) && (info.mode & 0o022) === 0;
}

/**
 * Turns on Node's compile cache (22.1+; Node 20 has none and nothing happens) in `<SONDE_HOME>/cache`.
 * V8 runs the code it finds in that cache, so it must be as private as the agent's keys: never Node's default
 * (a shared folder under /tmp that another local user could create first), only inside a home that is this
 * user's own and closed to others, in a folder made 0700. Anything else and the agent starts without a cache.
 * Pack processes never see it: the agent's home is outside their read grant and denied to their effects.
 */
export function enablePrivateCompileCache(enable: ((dir: string) => unknown) | undefined, home: string): string | undefined {
  if (!enable) return undefined;
  try {
    if (!ownedPrivately(home)) return undefined;
    const dir = path.join(home, 'cache');
    mkdirSync(dir, { mode: 0o700, recursive: true });
    if (!ownedPrivately(dir)) return undefined;
    enable(dir);
    return dir;
  } catch {
    return undefined;
  }
}
