import { HOST_PEERS, hostPeerProblem } from '@sonde/registry';
import path from 'node:path';
import type { Finding } from '../findings.js';
import type { Project } from '../project.js';

/**
 * The dependency contract: the host lends @sonde/pack-sdk and zod (so the
 * pack runs against the agent's copy, and its peer range says which agents
 * can run it); anything else the pack needs at run time must be bundled in
 * its tarball, where the signature covers it. The peer rule is the registry's
 * own (`hostPeerProblem`, which `sonde-registry sign` and `sonde packs install`
 * enforce), so validate says exactly what signing would refuse.
 */
export function checkPackageJson(project: Project): Finding[] {
  const findings: Finding[] = [];
  const pkg = project.packageJson;
  const file = 'package.json';
  const peers = hostPeerProblem(pkg);
  if (peers) findings.push({ rule: 'package/peer-dependencies', level: 'error', file, message: peers });
  for (const name of HOST_PEERS) {
    if (pkg.dependencies?.[name] && pkg.peerDependencies?.[name])
      findings.push({
        rule: 'package/peer-dependencies',
        level: 'error',
        file,
        message: `${name} is in "dependencies" as well as "peerDependencies": remove it from "dependencies"; a pack never ships its own copy`,
      });
  }
  const bundled = new Set(
    [pkg.bundleDependencies, pkg.bundledDependencies].flatMap((list) =>
      list === true ? Object.keys(pkg.dependencies ?? {}) : Array.isArray(list) ? list : [],
    ),
  );
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    if ((HOST_PEERS as readonly string[]).includes(name) || bundled.has(name)) continue;
    findings.push({
      rule: 'package/bundled-dependencies',
      level: 'error',
      file,
      message: `dependency ${name} is not bundled: an agent installs only the signed tarball, so add it to "bundleDependencies" (or drop it)`,
    });
  }
  const files = pkg.files;
  if (!files) {
    findings.push({
      rule: 'package/files',
      level: 'error',
      file,
      message: 'no "files" list: add ["dist", "sonde-pack.json", "README.md"] so only what runs is published and signed',
    });
  } else {
    const covered = (target: string): boolean => {
      const relative = path.relative(project.dir, target).split(path.sep).join('/');
      return files.some((entry) => {
        const clean = entry.replace(/^\.\//, '').replace(/\/$/, '');
        return relative === clean || relative.startsWith(`${clean}/`);
      });
    };
    if (!covered(project.entry))
      findings.push({
        rule: 'package/files',
        level: 'error',
        file,
        message: `"files" does not include the entry ${path.relative(project.dir, project.entry)}`,
      });
    if (!covered(project.manifestFile))
      findings.push({
        rule: 'package/files',
        level: 'error',
        file,
        message: `"files" does not include ${path.relative(project.dir, project.manifestFile)}`,
      });
  }
  return findings;
}
