import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
  kind: 'unshare';
  command: string;
  /** Arguments placed before the node command line. */
  args: string[];
  layers: string[];
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
 * setpriv makes `unshare` die with the agent (PDEATHSIG, and --kill-child passes it on to node): a pack
 * spinning in a loop never reads the closed channel, and must not outlive an agent killed with SIGKILL.
 */
const SETPRIV_ARGS = ['--pdeathsig', 'SIGKILL', '--no-new-privs', '--'];
let unshareCache: OsSandbox | null | undefined;

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

/** `unshare` with a user, network and PID namespace, if this kernel lets this user make them. */
export function detectOsSandbox(): OsSandbox | null {
  if (unshareCache !== undefined) return unshareCache;
  unshareCache = null;
  if (process.platform !== 'linux') return null;
  const unshare = firstExisting(['/usr/bin/unshare', '/bin/unshare']);
  const truth = firstExisting(['/usr/bin/true', '/bin/true']);
  if (!unshare || !truth) return null;
  const probe = spawnSync(unshare, [...UNSHARE_ARGS, truth], { env: {}, stdio: 'ignore', timeout: 10_000 });
  if (probe.status === 0) unshareCache = { kind: 'unshare', command: unshare, args: UNSHARE_ARGS, layers: ['userns', 'netns', 'pidns'] };
  return unshareCache;
}

/** The command line that starts a pack's node: [setpriv …] [unshare …] node …. */
export function launchCommand(os: OsSandbox | null, nodePath: string, nodeArgs: string[]): { command: string; args: string[] } {
  const inner = os ? [os.command, ...os.args, nodePath, ...nodeArgs] : [nodePath, ...nodeArgs];
  const setpriv = detectSetpriv();
  const full = setpriv ? [setpriv, ...SETPRIV_ARGS, ...inner] : inner;
  const [command = nodePath, ...args] = full;
  return { command, args };
}

/** The label `sonde status` and the register message show, e.g. `permission-model+userns+netns+pidns`. */
export function isolationLabel(os: OsSandbox | null): string {
  return ['permission-model', ...(os?.layers ?? [])].join('+');
}
