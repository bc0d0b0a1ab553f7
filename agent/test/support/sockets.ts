import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Listening sockets owned by a process, from /proc: socket inodes among its
 * fds, matched against TCP entries in LISTEN state (0A), bound UDP entries
 * and unix sockets flagged __SO_ACCEPTCON. Empty means it serves nothing.
 */
export function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // fd closed while listing
    }
  }
  const found: string[] = [];
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (!inode || !inodes.has(inode)) continue;
      if (proto.startsWith('tcp') && state === '0A') found.push(`${proto} listen ${local}`);
      if (proto.startsWith('udp')) found.push(`${proto} bound ${local}`);
    }
  }
  const unix = readFileSync(`/proc/${pid}/net/unix`, 'utf8').trim().split('\n').slice(1);
  for (const line of unix) {
    const cols = line.trim().split(/\s+/);
    if (inodes.has(cols[6] ?? '') && (Number.parseInt(cols[3] ?? '0', 16) & 0x10000) !== 0)
      found.push(`unix listen ${cols[7] ?? '(anonymous)'}`);
  }
  return found;
}

/** Socket fds of the process (so a test can tell the check saw the hub connection at all). */
export function socketCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
}
