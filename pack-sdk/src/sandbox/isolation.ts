import { execFileSync, spawn, spawnSync } from 'node:child_process';
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
  // The agent's own binary answers from this process: asking it again cost a blocking Node start (~50 ms of CPU)
  // before the first pack process. Another binary (sandbox.nodePath) is run once to ask.
  const parsed =
    execPath === process.execPath
      ? { v: process.version, s: process.allowedNodeEnvironmentFlags.has('--disable-sigusr1') }
      : (JSON.parse(
          execFileSync(
            execPath,
            ['-p', `JSON.stringify({ v: process.version, s: process.allowedNodeEnvironmentFlags.has('--disable-sigusr1') })`],
            { env: {}, encoding: 'utf8', timeout: 10_000 },
          ),
        ) as { v: string; s: boolean });
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

/** Runs a detection command with nothing of the agent's (no environment, no descriptors): did it exit 0? */
function succeedsSync(command: string, args: string[]): boolean {
  return spawnSync(command, args, { env: {}, stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** The same without blocking the event loop: `sonde start` runs it while its modules load. */
function succeeds(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: {}, stdio: 'ignore', timeout: 10_000 });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** setpriv, when present and working: PDEATHSIG and no-new-privs around whatever runs the pack. */
let setprivCache: string | null | undefined;
function setprivCandidate(): { setpriv: string; args: string[] } | undefined {
  const setpriv = process.platform === 'linux' ? firstExisting(['/usr/bin/setpriv', '/bin/setpriv']) : undefined;
  const truth = firstExisting(['/usr/bin/true', '/bin/true']);
  return setpriv && truth ? { setpriv, args: [...SETPRIV_ARGS, truth] } : undefined;
}

export function detectSetpriv(): string | null {
  if (setprivCache !== undefined) return setprivCache;
  const candidate = setprivCandidate();
  setprivCache = candidate && succeedsSync(candidate.setpriv, candidate.args) ? candidate.setpriv : null;
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

/** bwrap's fixed arguments, if bwrap is installed; whether it works here is the probe's question. */
function bwrapCandidate(truth: string): { sandbox: OsSandbox; probe: string[] } | undefined {
  const bwrap = firstExisting(['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap']);
  if (!bwrap) return undefined;
  const args = [...BWRAP_ARGS, ...libraryMounts()];
  return {
    sandbox: { kind: 'bwrap', command: bwrap, args, layers: ['userns', 'netns', 'pidns', 'ipcns', 'mountns'] },
    probe: [...args, ...viewMounts({ readOnly: [truth], cwd: '/' }), '--', truth],
  };
}

function unshareCandidate(truth: string): { sandbox: OsSandbox; probe: string[] } | undefined {
  const unshare = firstExisting(['/usr/bin/unshare', '/bin/unshare']);
  if (!unshare) return undefined;
  return {
    sandbox: { kind: 'unshare', command: unshare, args: UNSHARE_ARGS, layers: ['userns', 'netns', 'pidns'] },
    probe: [...UNSHARE_ARGS, truth],
  };
}

/** Strongest first; each candidate really starts `true` in its namespaces, and the first that exits 0 is the answer. */
function osCandidates(): Array<{ sandbox: OsSandbox; probe: string[] }> {
  if (process.platform !== 'linux') return [];
  const truth = firstExisting(['/usr/bin/true', '/bin/true']);
  if (!truth) return [];
  return [bwrapCandidate(truth), unshareCandidate(truth)].filter((candidate) => candidate !== undefined);
}

/**
 * The strongest OS layer this host gives this user: bubblewrap (namespaces and a minimal filesystem view),
 * else `unshare` (namespaces only; host files and Unix sockets stay reachable), else none. Detected once.
 */
export function detectOsSandbox(): OsSandbox | null {
  if (osCache !== undefined) return osCache;
  osCache = osCandidates().find((candidate) => succeedsSync(candidate.sandbox.command, candidate.probe))?.sandbox ?? null;
  return osCache;
}

let prepared: Promise<OsSandbox | null> | undefined;
/**
 * detectOsSandbox and detectSetpriv without blocking: the same probes, run as child processes while the
 * caller does other work (`sonde start` loads its modules meanwhile, so the namespace set-up of the probes
 * is off the start → online path). Every process still asks its host; nothing is remembered across starts.
 */
export function prepareOsSandbox(): Promise<OsSandbox | null> {
  prepared ??= (async () => {
    const setpriv = setprivCache === undefined ? setprivCandidate() : undefined;
    const setprivWorks = setpriv ? succeeds(setpriv.setpriv, setpriv.args) : Promise.resolve(false);
    let found: OsSandbox | null = null;
    if (osCache === undefined) {
      for (const candidate of osCandidates()) {
        if (await succeeds(candidate.sandbox.command, candidate.probe)) {
          found = candidate.sandbox;
          break;
        }
      }
    }
    const setprivOk = await setprivWorks;
    // A synchronous detection that finished meanwhile asked the same host the same question: the first answer stays.
    if (osCache === undefined) osCache = found;
    if (setprivCache === undefined) setprivCache = setpriv && setprivOk ? setpriv.setpriv : null;
    return osCache;
  })();
  return prepared;
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
