import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed @sonde/agent package root (holds package.json and dist/). */
export function agentPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === '@sonde/agent') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the @sonde/agent package root');
    dir = parent;
  }
}

let cached: string | undefined;

export function agentVersion(): string {
  cached ??= (JSON.parse(readFileSync(path.join(agentPackageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
