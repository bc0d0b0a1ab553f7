import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Attestation } from '@sonde/pack-sdk/protocol';
import { configDigest } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { isPackDependency, treeDigest } from '../packs/digest.js';
import { agentPackageRoot, agentVersion } from '../version.js';

function distro(): string | undefined {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The installed agent code: package.json plus every file under dist/ (build
 * bookkeeping excluded), so replacing any module is visible, not only cli.js.
 */
export function agentCodeDigest(root = agentPackageRoot()): string {
  return treeDigest(root, (relative) => {
    if (relative === 'package.json' || relative === 'dist') return false;
    if (relative.startsWith('dist/')) return relative.endsWith('.tsbuildinfo');
    return true;
  });
}

/**
 * `verifiedSha256`: the folder's digest from the verification that just read every file of it (at start the
 * registration follows it within milliseconds); without it the folder is read and hashed again (a reconnect
 * hours later reports what is on disk then).
 */
export function buildAttestation(
  config: AgentConfig,
  packs: Array<{ name: string; version: string; dir: string; verifiedSha256?: string }>,
): Attestation {
  const root = agentPackageRoot();
  if (!existsSync(path.join(root, 'dist'))) throw new Error(`agent is not built: ${root}/dist is missing`);
  const osDistro = distro();
  return {
    os: { platform: os.platform(), release: os.release(), version: os.version(), ...(osDistro ? { distro: osDistro } : {}) },
    kernel: os.release(),
    arch: os.arch(),
    nodeVersion: process.version,
    agentVersion: agentVersion(),
    agentCodeSha256: agentCodeDigest(root),
    configSha256: configDigest(config),
    packs: packs
      .map((pack) => ({
        name: pack.name,
        version: pack.version,
        sha256: pack.verifiedSha256 ?? treeDigest(pack.dir, isPackDependency),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}
