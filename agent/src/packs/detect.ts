import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackManifestSchema, SAFE_PATH, type PackManifest } from '@sonde/pack-sdk';

/** The system packs the agent knows about without a registry (those resolvable next to it). */
export const KNOWN_PACKS = ['system', 'docker', 'systemd', 'nginx', 'postgres', 'redis', 'mysql'];

export interface Suggestion {
  pack: string;
  packageName: string;
  matched: string[];
  installed: boolean;
}

function onPath(command: string): boolean {
  if (command.includes('/')) return isExecutable(command);
  return SAFE_PATH.split(':').some((dir) => isExecutable(path.join(dir, command)));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/** A service counts when its unit file exists or a process of that name runs. */
function serviceSeen(service: string, running: Set<string>): boolean {
  const unit = service.endsWith('.service') ? service : `${service}.service`;
  return UNIT_DIRS.some((dir) => existsSync(path.join(dir, unit))) || running.has(service.replace(/\.service$/, ''));
}

function runningCommands(): Set<string> {
  const names = new Set<string>();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      names.add(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
    } catch {
      // the process ended between listing and reading
    }
  }
  return names;
}

export function evaluateDetect(manifest: PackManifest, running = runningCommands()): string[] {
  const matched: string[] = [];
  for (const command of manifest.detect.commands) if (onPath(command)) matched.push(`command ${command}`);
  for (const file of manifest.detect.files) if (existsSync(file)) matched.push(`file ${file}`);
  for (const service of manifest.detect.services) if (serviceSeen(service, running)) matched.push(`service ${service}`);
  return matched;
}

/** Manifests of the known system packs that are resolvable from the agent (workspace or global install). */
export function knownManifests(): Array<{ packageName: string; manifest: PackManifest }> {
  const out: Array<{ packageName: string; manifest: PackManifest }> = [];
  for (const name of KNOWN_PACKS) {
    const packageName = `@sonde/pack-${name}`;
    try {
      let dir = path.dirname(fileURLToPath(import.meta.resolve(packageName)));
      while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
      const parsed = PackManifestSchema.safeParse(JSON.parse(readFileSync(path.join(dir, 'sonde-pack.json'), 'utf8')));
      if (parsed.success) out.push({ packageName, manifest: parsed.data });
    } catch {
      // not installed or not built: scan reports only what it can read
    }
  }
  return out;
}

export function scan(installed: Array<{ name: string; packageName: string; manifest: PackManifest }>): Suggestion[] {
  const running = runningCommands();
  const candidates = new Map<string, { packageName: string; manifest: PackManifest; installed: boolean }>();
  for (const known of knownManifests()) candidates.set(known.manifest.name, { ...known, installed: false });
  for (const pack of installed) candidates.set(pack.name, { packageName: pack.packageName, manifest: pack.manifest, installed: true });
  return [...candidates.values()]
    .map((candidate) => ({
      pack: candidate.manifest.name,
      packageName: candidate.packageName,
      installed: candidate.installed,
      matched: evaluateDetect(candidate.manifest, running),
    }))
    .sort((a, b) => a.pack.localeCompare(b.pack));
}
