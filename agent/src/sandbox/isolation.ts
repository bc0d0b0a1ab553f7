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
let unshareCache: OsSandbox | null | undefined;

/** `unshare` with a user, network and PID namespace, if this kernel lets this user make them. */
export function detectOsSandbox(): OsSandbox | null {
  if (unshareCache !== undefined) return unshareCache;
  unshareCache = null;
  if (process.platform !== 'linux') return null;
  const command = ['/usr/bin/unshare', '/bin/unshare'].find((candidate) => existsSync(candidate));
  const truth = ['/usr/bin/true', '/bin/true'].find((candidate) => existsSync(candidate));
  if (!command || !truth) return null;
  const probe = spawnSync(command, [...UNSHARE_ARGS, truth], { env: {}, stdio: 'ignore', timeout: 10_000 });
  if (probe.status === 0) unshareCache = { kind: 'unshare', command, args: UNSHARE_ARGS, layers: ['userns', 'netns', 'pidns'] };
  return unshareCache;
}

/** The label `sonde status` and the register message show, e.g. `permission-model+userns+netns+pidns`. */
export function isolationLabel(os: OsSandbox | null): string {
  return ['permission-model', ...(os?.layers ?? [])].join('+');
}
