import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';

/**
 * What the host can give a pack process. Detected once per Node binary:
 * the permission-model flag differs by version (Node 20 knows only
 * `--experimental-permission`, 24 only `--permission`), and whether
 * unprivileged user namespaces work depends on the kernel and its settings.
 */
export interface NodeFacts {
  execPath: string;
  version: string;
  major: number;
  permissionFlag: '--experimental-permission' | '--permission';
  /** Node 22.14+/23.7+: the process ignores SIGUSR1 instead of opening an inspector. */
  disableSigusr1: boolean;
}

export interface OsSandbox {
  /**
   * `bwrap`: namespaces plus a mount namespace holding only the pack's read grant, the Node binary and the
   * system libraries (no /tmp, /run, /var, /home, /etc, host /proc or /dev/shm: no host file and no host
   * Unix socket exists in it). `unshare`: the same namespaces but the host's whole filesystem.
   */
  kind: 'bwrap' | 'unshare';
  command: string;
  /** Arguments placed before the node command line (for bwrap: the ones that do not depend on the pack). */
  args: string[];
  layers: string[];
}

/** What a pack process may see: bound read-only at the same paths inside a bwrap sandbox; ignored by unshare. */
export interface SandboxView {
  /** Folders and files the pack process reads (its grant, the Node binary). */
  readOnly: string[];
  cwd: string;
}

const nodeCache = new Map<string, NodeFacts>();

export function nodeFacts(execPath: string = process.execPath): NodeFacts {
  const cached = nodeCache.get(execPath);
  if (cached) return cached;
  const output = execFileSync(
    execPath,
    ['-p', `JSON.stringify({ v: process.version, s: process.allowedNodeEnvironmentFlags.has('--disable-sigusr1') })`],
    { env: {}, encoding: 'utf8', timeout: 10_000 },
  );
  const parsed = JSON.parse(output) as { v: string; s: boolean };
  const major = Number(/^v(\d+)/.exec(parsed.v)?.[1] ?? 0);
  if (major < 20) throw new Error(`${execPath} is Node ${parsed.v}; the sandbox needs Node 20 or later`);
  const facts: NodeFacts = {
    execPath,
    version: parsed.v,
    major,
    permissionFlag: major >= 22 ? '--permission' : '--experimental-permission',
    disableSigusr1: parsed.s,
  };
  nodeCache.set(execPath, facts);
  return facts;
}

const UNSHARE_ARGS = ['--user', '--map-root-user', '--net', '--pid', '--fork', '--kill-child=SIGKILL'];
/**
 * Every namespace bwrap knows; `--as-pid-1` makes node PID 1 of its namespace (as under unshare, so the
 * agent finds it as its launcher's child), `--new-session` detaches it from any terminal (TIOCSTI), and
 * `--die-with-parent` is PDEATHSIG. bwrap brings the new loopback up; there is still no route out.
 */
const BWRAP_ARGS = [
  '--unshare-user',
  '--unshare-net',
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-cgroup-try',
  '--die-with-parent',
  '--new-session',
  '--as-pid-1',
  '--cap-drop',
  'ALL',
  '--proc',
  '/proc',
  '--dev',
  '/dev',
];
/** Where the dynamic loader and the C/C++ runtime live; the only system folders a pack process sees. */
const LIBRARY_DIRS = ['/lib', '/lib64', '/lib32', '/libx32', '/usr/lib', '/usr/lib64', '/usr/lib32', '/usr/libx32'];
/**
 * setpriv makes `unshare` die with the agent (PDEATHSIG, and --kill-child passes it on to node): a pack
 * spinning in a loop never reads the closed channel, and must not outlive an agent killed with SIGKILL.
 */
const SETPRIV_ARGS = ['--pdeathsig', 'SIGKILL', '--no-new-privs', '--'];
let osCache: OsSandbox | null | undefined;

function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((candidate) => existsSync(candidate));
}

/** setpriv, when present and working: PDEATHSIG and no-new-privs around whatever runs the pack. */
let setprivCache: string | null | undefined;
export function detectSetpriv(): string | null {
  if (setprivCache !== undefined) return setprivCache;
  setprivCache = null;
  const setpriv = process.platform === 'linux' ? firstExisting(['/usr/bin/setpriv', '/bin/setpriv']) : undefined;
  const truth = firstExisting(['/usr/bin/true', '/bin/true']);
  if (setpriv && truth && spawnSync(setpriv, [...SETPRIV_ARGS, truth], { env: {}, stdio: 'ignore', timeout: 10_000 }).status === 0)
    setprivCache = setpriv;
  return setprivCache;
}

/** `--ro-bind` the library folders that exist, `--symlink` the ones that are links (merged /usr). */
function libraryMounts(): string[] {
  const args: string[] = [];
  for (const dir of LIBRARY_DIRS) {
    let info;
    try {
      info = lstatSync(dir);
    } catch {
      continue;
    }
    if (info.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (info.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  return args;
}

function viewMounts(view: SandboxView): string[] {
  const args: string[] = [];
  for (const entry of view.readOnly) args.push('--ro-bind', entry, entry);
  return [...args, '--chdir', view.cwd];
}

function detectBwrap(truth: string): OsSandbox | null {
  const bwrap = firstExisting(['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap']);
  if (!bwrap) return null;
  const args = [...BWRAP_ARGS, ...libraryMounts()];
  const probe = spawnSync(bwrap, [...args, ...viewMounts({ readOnly: [truth], cwd: '/' }), '--', truth], {
    env: {},
    stdio: 'ignore',
    timeout: 10_000,
  });
  if (probe.status !== 0) return null;
  return { kind: 'bwrap', command: bwrap, args, layers: ['userns', 'netns', 'pidns', 'ipcns', 'mountns'] };
}

/**
 * The strongest OS layer this host gives this user: bubblewrap (namespaces and a minimal filesystem view),
 * else `unshare` (namespaces only; host files and Unix sockets stay reachable), else none. Detected once.
 */
export function detectOsSandbox(): OsSandbox | null {
  if (osCache !== undefined) return osCache;
  osCache = null;
  if (process.platform !== 'linux') return null;
  const truth = firstExisting(['/usr/bin/true', '/bin/true']);
  if (!truth) return null;
  osCache = detectBwrap(truth);
  if (osCache) return osCache;
  const unshare = firstExisting(['/usr/bin/unshare', '/bin/unshare']);
  if (!unshare) return null;
  const probe = spawnSync(unshare, [...UNSHARE_ARGS, truth], { env: {}, stdio: 'ignore', timeout: 10_000 });
  if (probe.status === 0) osCache = { kind: 'unshare', command: unshare, args: UNSHARE_ARGS, layers: ['userns', 'netns', 'pidns'] };
  return osCache;
}

/** The command line that starts a pack's node: [setpriv …] [bwrap … | unshare …] node …. */
export function launchCommand(
  os: OsSandbox | null,
  nodePath: string,
  nodeArgs: string[],
  view?: SandboxView,
): { command: string; args: string[] } {
  let inner: string[];
  if (os?.kind === 'bwrap') {
    const node = realpathSync(nodePath);
    const readOnly = [node, ...(view?.readOnly ?? [])];
    inner = [os.command, ...os.args, ...viewMounts({ readOnly, cwd: view?.cwd ?? '/' }), '--', node, ...nodeArgs];
  } else inner = os ? [os.command, ...os.args, nodePath, ...nodeArgs] : [nodePath, ...nodeArgs];
  const setpriv = detectSetpriv();
  const full = setpriv ? [setpriv, ...SETPRIV_ARGS, ...inner] : inner;
  const [command = nodePath, ...args] = full;
  return { command, args };
}

/** The label `sonde status` and the register message show, e.g. `permission-model+userns+netns+pidns`. */
export function isolationLabel(os: OsSandbox | null): string {
  return ['permission-model', ...(os?.layers ?? [])].join('+');
}

/**
 * What the pack process can still reach on this host, said wherever the isolation is shown (the register
 * message, `sonde status`, the hub's agent view, the hub's integrations status); undefined when nothing.
 */
export function isolationGap(os: OsSandbox | null): string | undefined {
  if (os?.kind === 'bwrap') return undefined;
  if (os) return 'NO mount namespace: host files and Unix sockets are reachable (install bubblewrap)';
  return 'NO OS sandbox: network, host files and Unix sockets are reachable (install bubblewrap, allow user namespaces)';
}
