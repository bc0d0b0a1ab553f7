import type { PackManifest } from '@sonde/pack-sdk';
import type { Finding } from '../findings.js';

/**
 * Commands (binary plus literal verbs) that change a host. A pack is read-only
 * by contract; the host also refuses everything undeclared, so this list keeps
 * authors from declaring a write in the first place.
 */
const WRITING_BINARIES = new Set([
  'rm',
  'rmdir',
  'mv',
  'cp',
  'dd',
  'ln',
  'install',
  'truncate',
  'shred',
  'tee',
  'touch',
  'mkdir',
  'chmod',
  'chown',
  'chgrp',
  'kill',
  'pkill',
  'killall',
  'reboot',
  'shutdown',
  'halt',
  'poweroff',
  'mkfs',
  'fdisk',
  'parted',
  'mount',
  'umount',
  'useradd',
  'userdel',
  'usermod',
  'groupadd',
  'passwd',
  'apt',
  'apt-get',
  'dpkg',
  'yum',
  'dnf',
  'rpm',
  'apk',
  'pip',
  'npm',
  'sh',
  'bash',
  'zsh',
  'dash',
  'env',
  'sudo',
  'su',
  'xargs',
  'find',
  'curl',
  'wget',
  'nc',
  'ncat',
  'socat',
  'python',
  'python3',
  'perl',
  'node',
]);
/** Verbs that change state for tools that also have read-only verbs. */
const WRITING_VERBS: Record<string, string[]> = {
  systemctl: [
    'start',
    'stop',
    'restart',
    'reload',
    'enable',
    'disable',
    'mask',
    'unmask',
    'kill',
    'daemon-reload',
    'reset-failed',
    'edit',
    'set-property',
  ],
  service: ['start', 'stop', 'restart', 'reload'],
  docker: [
    'rm',
    'rmi',
    'stop',
    'start',
    'restart',
    'kill',
    'exec',
    'run',
    'create',
    'pull',
    'push',
    'prune',
    'update',
    'cp',
    'pause',
    'unpause',
  ],
  kubectl: [
    'delete',
    'apply',
    'create',
    'edit',
    'patch',
    'replace',
    'scale',
    'rollout',
    'exec',
    'cp',
    'drain',
    'cordon',
    'label',
    'annotate',
  ],
  iptables: ['-A', '-D', '-I', '-R', '-F', '-X', '-P', '-N', '-Z'],
  ip: ['add', 'del', 'set', 'flush', 'change', 'replace'],
  crontab: ['-e', '-r'],
  sed: ['-i'],
  git: ['push', 'commit', 'reset', 'checkout', 'clean', 'rm'],
};

function baseName(binary: string): string {
  return binary.slice(binary.lastIndexOf('/') + 1);
}

export function checkPermissions(manifest: PackManifest): Finding[] {
  const findings: Finding[] = [];
  const file = 'sonde-pack.json';
  for (const command of manifest.permissions.commands) {
    const name = baseName(command.binary);
    if (WRITING_BINARIES.has(name)) {
      findings.push({
        rule: 'read-only/command',
        level: 'error',
        file,
        message: `declares ${command.binary}: it changes the host (or runs arbitrary code); a pack only reads`,
      });
      continue;
    }
    for (const shape of command.args) {
      const verbs = WRITING_VERBS[name] ?? [];
      const writing = shape.find((arg) => verbs.includes(arg) || verbs.some((verb) => verb.startsWith('-') && arg.startsWith(`${verb}=`)));
      if (writing)
        findings.push({
          rule: 'read-only/command',
          level: 'error',
          file,
          message: `declares ${command.binary} ${shape.join(' ')}: "${writing}" changes state; a pack only reads`,
        });
      if (shape.some((arg) => arg.includes('<text>')))
        findings.push({
          rule: 'permissions/broad',
          level: 'warning',
          file,
          message: `${command.binary} ${shape.join(' ')}: <text> accepts any text; prefer <name>, <host>, <uint> or a literal when the value has a shape`,
        });
    }
  }
  for (const glob of manifest.permissions.files) {
    const depth = glob.split('/').filter((part) => part && !part.includes('*')).length;
    if (glob.includes('**') && depth < 2)
      findings.push({
        rule: 'permissions/broad',
        level: 'warning',
        file,
        message: `file glob ${glob} reaches a whole top-level tree; declare the files the probes read`,
      });
  }
  for (const endpoint of manifest.permissions.network) {
    if (!endpoint.paths || endpoint.paths.length === 0 || endpoint.paths.includes('/**'))
      findings.push({
        rule: 'permissions/broad',
        level: 'warning',
        file,
        message: `network ${endpoint.protocol}://${endpoint.host}${endpoint.port ? `:${endpoint.port}` : ''} allows every path; list the API paths the probes call`,
      });
  }
  return findings;
}
