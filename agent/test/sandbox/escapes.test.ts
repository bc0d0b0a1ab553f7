import { existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandboxRunner,
  detectOsSandbox,
  isolationGap,
  isolationLabel,
  type SandboxRunner,
  type SandboxSecurityEvent,
} from '@sonde/pack-sdk/sandbox';
import { childNodes, makePackTree, packProcessBundle, type PackTree } from './setup.js';
import { precondition } from '../../../test/support/preconditions.js';

/** Resolves to whether something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  if ('value' in outcome) throw new Error(`expected a refusal, the probe returned ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

const osSandbox = detectOsSandbox();
const mountView = osSandbox?.kind === 'bwrap';
const userns = precondition(
  import.meta.url,
  'userns',
  osSandbox !== null,
  'unshare cannot make user, network and PID namespaces here (no util-linux unshare, or unprivileged user namespaces are off)',
);
const bwrap = precondition(
  import.meta.url,
  'bwrap',
  mountView,
  'no working bubblewrap (Debian package bubblewrap): pack processes get no mount namespace here',
);

/** A real Unix-domain socket server on the host (path or abstract) that hands a secret to whoever connects. */
async function hostSocket(where: string): Promise<{ server: net.Server; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    socket.end('HOST-SECRET');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, resolve);
  });
  return { server, accepted: () => accepted };
}

describe.each(childNodes())('a hostile pack under %s', (nodePath) => {
  let tree: PackTree;
  let runner: SandboxRunner;
  let listener: net.Server;
  let listenerPort = 0;
  let connections = 0;
  const events: SandboxSecurityEvent[] = [];
  const eventsOf = (kind: string, probe: string): SandboxSecurityEvent[] => events.filter((e) => e.kind === kind && e.probe === probe);

  beforeAll(async () => {
    // As the agent runs it: the runner and the host packages from its pack-process bundle.
    tree = await makePackTree(packProcessBundle());
    listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listenerPort = (listener.address() as net.AddressInfo).port;
    runner = createSandboxRunner({
      packDir: tree.packDir,
      permissions: tree.permissions,
      deniedPaths: [tree.keyFile],
      nodePath,
      childEntry: tree.childEntry,
      onSecurityEvent: (event) => events.push(event),
    });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.close();
    listener?.close();
    tree?.cleanup();
  });

  it('reports the isolation it got, naming what is missing', () => {
    expect(runner.isolation).toBe(isolationLabel(osSandbox));
    if (mountView) expect(runner.isolation).toBe('permission-model+userns+netns+pidns+ipcns+mountns');
    else expect(isolationGap(osSandbox)).toMatch(/^NO (mount namespace|OS sandbox)/);
    expect(runner.state.status).toBe('ready');
    expect(runner.state.pid).toBeGreaterThan(1);
  });

  it('starts with an empty environment', async () => {
    const { result } = await runner.run('env', {});
    expect(JSON.parse((result as { outcome: string }).outcome)).toEqual({});
  });

  it('serves legitimate effects through the broker', async () => {
    expect((await runner.run('echo', { text: 'through the broker' })).result).toEqual({ outcome: 'through the broker' });
    const file = path.join(tree.root, 'declared.txt');
    writeFileSync(file, 'readable by declaration');
    expect((await runner.run('read', { path: file })).result).toEqual({ outcome: 'readable by declaration' });
  });

  it('refuses undeclared effects at the broker and reports each as a security event', async () => {
    const exec = await failure(runner.run('exec.id', {}));
    expect(exec.code).toBe('SONDE_ERR_PERMISSION_DENIED');
    expect(eventsOf('effect-refused', 'exec.id')[0]?.detail).toMatch(/\/usr\/bin\/id is not declared/);

    // The agent's key lies under the declared /tmp/** but is a host-denied path.
    const key = await failure(runner.run('read', { path: tree.keyFile }));
    expect(key.code).toBe('SONDE_ERR_PERMISSION_DENIED');
    expect(key.message).not.toContain('FAKE-AGENT-KEY');

    // A declared-looking path that is a symlink to /etc/shadow: the broker checks the real path.
    const link = path.join(tree.root, 'shadow-link');
    symlinkSync('/etc/shadow', link);
    const viaLink = await failure(runner.run('read', { path: link }));
    expect(viaLink.code).toBe('SONDE_ERR_PERMISSION_DENIED');
    expect(eventsOf('effect-refused', 'read')).toHaveLength(2);
  });

  it('gives a <path> command argument the deny-list and realpath checks of a read, and never names the agent home', async () => {
    const file = path.join(tree.root, 'catted.txt');
    writeFileSync(file, 'declared content');
    expect((await runner.run('cat', { path: file })).result).toEqual({ outcome: 'declared content' });
    const home = path.dirname(tree.keyFile);
    const link = path.join(tree.root, 'innocent-name');
    symlinkSync(tree.keyFile, link);
    const homeLink = path.join(tree.root, 'innocent-dir');
    symlinkSync(home, homeLink);
    for (const [probe, target] of [
      ['cat', tree.keyFile],
      ['cat', link],
      ['cat', path.join(homeLink, 'agent.key.pem')],
      ['read', link],
      ['read', path.join(homeLink, 'agent.key.pem')],
    ] as const) {
      const error = await failure(runner.run(probe, { path: target }));
      expect(error.code, `${probe} ${target}`).toBe('SONDE_ERR_PERMISSION_DENIED');
      expect(error.message).not.toContain('FAKE-AGENT-KEY');
      // What the pack asked for may be named; where a link leads (the agent's home) may not.
      if (!target.startsWith(home)) expect(error.message, `${probe} ${target}`).not.toContain(home);
    }
  });

  it.each([
    ['spawn.id', 'child_process.execFileSync(id)'],
    ['binding.spawn', "process.binding('spawn_sync')"],
    ['worker', 'new Worker(..., { execArgv: [] })'],
    ['inspector', 'inspector.open()'],
    ['nodeoptions.fork', 'NODE_OPTIONS=--allow-fs-read=* then fork'],
  ])('stops %s (%s) inside the pack process', async (probe) => {
    const error = await failure(runner.run(probe, {}));
    expect(error.message).toMatch(/restricted|process\.binding/);
    expect(error.message).not.toContain('ESCAPED');
    // The child reports permission-model refusals it saw; the agent logs them.
    expect(eventsOf('sandbox-denied', probe)).toHaveLength(1);
  });

  it('cannot read /etc/shadow or the agent key by itself', async () => {
    for (const target of ['/etc/shadow', tree.keyFile]) {
      const error = await failure(runner.run('read.direct', { path: target }));
      expect(error.message).toMatch(/restricted/);
      expect(error.message).not.toContain('FAKE-AGENT-KEY');
    }
    expect(eventsOf('sandbox-denied', 'read.direct')[0]?.detail).toMatch(/FileSystemRead/);
  });

  it('refuses to start when its folder holds a symlink to /etc/shadow or to the agent key', async () => {
    for (const [name, target] of [
      ['leak', '/etc/shadow'],
      ['key', tree.keyFile],
    ] as const) {
      const link = path.join(tree.packDir, name);
      symlinkSync(target, link);
      const local: SandboxSecurityEvent[] = [];
      const linked = createSandboxRunner({
        packDir: tree.packDir,
        permissions: tree.permissions,
        nodePath,
        childEntry: tree.childEntry,
        onSecurityEvent: (event) => local.push(event),
      });
      try {
        const error = await failure(linked.start());
        expect(error.message).toContain(`${link}: symlink to ${target}`);
        expect(linked.state.status).toBe('failed');
        expect(local.map((event) => event.kind)).toEqual(['sandbox-refused']);
      } finally {
        rmSync(link);
        await linked.close();
      }
    }
  });

  it.skipIf(!userns.holds)('has no network: neither a local listener nor PostgreSQL is reachable', async () => {
    const toListener = await failure(runner.run('connect', { host: '127.0.0.1', port: listenerPort }));
    expect(toListener.message).toMatch(/ENETUNREACH|ECONNREFUSED|timeout/);
    const toPostgres = await failure(runner.run('connect', { host: '127.0.0.1', port: 5432 }));
    expect(toPostgres.message).toMatch(/ENETUNREACH|ECONNREFUSED|timeout/);
    // Both attempts have failed: a connection that reached the listener would have been counted before the failure.
    expect(connections).toBe(0);
  });

  // Node's permission model does not check connect() on a Unix socket: only the mount and network namespaces
  // stop it. A path that exists but is no socket would answer ECONNREFUSED, so ENOENT also shows that no host
  // file (the agent's key, /etc/passwd) is visible at all.
  it.skipIf(!bwrap.holds)('reaches no host Unix socket and sees no host file (needs bubblewrap)', async () => {
    const tag = `sonde-escape-${process.pid}-${Date.now()}`;
    const inTmp = path.join(tree.root, 'host.sock');
    const inShm = `/dev/shm/${tag}.sock`;
    const inHome = path.join(path.dirname(tree.keyFile), 'agent.sock');
    const abstract = `\0${tag}`;
    const servers = await Promise.all([inTmp, inShm, inHome, abstract].map((where) => hostSocket(where)));
    try {
      // The servers answer on the host: the attempts below are real targets.
      const probe = net.connect(inTmp);
      await new Promise((resolve) => probe.once('data', resolve));
      probe.destroy();
      const before = servers.map((s) => s.accepted());
      const paths = [
        inTmp,
        inShm,
        inHome,
        `/proc/${process.pid}/root${inTmp}`,
        `/proc/${process.pid}/root${inShm}`,
        `/proc/1/root${inTmp}`,
        `/proc/self/root${inHome}`,
        `/proc/${process.pid}/cwd/${path.relative(process.cwd(), inTmp)}`,
        ...['/var/run/postgresql/.s.PGSQL.5432', '/run/mysqld/mysqld.sock', '/var/run/docker.sock', '/run/dbus/system_bus_socket'].filter(
          (socket) => existsSync(socket),
        ),
      ];
      for (const target of paths) {
        const error = await failure(runner.run('connect.unix', { path: target }));
        expect(error.message, target).toMatch(/\bENOENT connecting/);
      }
      const abstractError = await failure(runner.run('connect.unix', { path: abstract }));
      expect(abstractError.message).toMatch(/\bECONNREFUSED connecting/);
      // Files: the agent's key and /etc/passwd do not exist in the pack's view (ENOENT, not ECONNREFUSED).
      for (const file of [tree.keyFile, '/etc/passwd', path.dirname(tree.keyFile)]) {
        const error = await failure(runner.run('connect.unix', { path: file }));
        expect(error.message, file).toMatch(/\bENOENT connecting/);
      }
      // Its own grant is there (a file in it refuses the connection rather than being missing).
      const own = await failure(runner.run('connect.unix', { path: path.join(tree.packDir, 'package.json') }));
      expect(own.message).toMatch(/\bECONNREFUSED connecting/);
      expect(servers.map((s) => s.accepted())).toEqual(before);
    } finally {
      for (const { server } of servers) server.close();
      rmSync(inShm, { force: true });
    }
  });

  it('refuses to start when its folder holds a socket (a read-only grant does not stop connect)', async () => {
    const where = path.join(tree.packDir, 'planted.sock');
    const { server } = await hostSocket(where);
    const local: SandboxSecurityEvent[] = [];
    const planted = createSandboxRunner({
      packDir: tree.packDir,
      permissions: tree.permissions,
      nodePath,
      childEntry: tree.childEntry,
      onSecurityEvent: (event) => local.push(event),
    });
    try {
      const error = await failure(planted.start());
      expect(error.message).toContain(`${where}: a socket`);
      expect(local.map((event) => event.kind)).toEqual(['sandbox-refused']);
    } finally {
      server.close();
      rmSync(where, { force: true });
      await planted.close();
    }
  });

  it('cannot open the agent inspector with SIGUSR1', async () => {
    const before = await isListening(9229);
    // Aimed at the agent's real PID (invisible inside the PID namespace), then at its own parent.
    const aimed = await failure(runner.run('signal.agent', { pid: process.pid }));
    expect(aimed.message).not.toContain('ESCAPED');
    await failure(runner.run('signal.agent', {}));
    expect(await isListening(9229)).toBe(before);
    expect(before).toBe(false);
    // Signalling its own process group may take the pack down; it comes back.
    expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
  });
});

describe('without namespaces (permission model alone)', () => {
  it('still stops spawning, and SIGUSR1 at the agent does not open its inspector', async () => {
    const tree = await makePackTree();
    const events: SandboxSecurityEvent[] = [];
    const runner = createSandboxRunner({
      packDir: tree.packDir,
      permissions: tree.permissions,
      osSandbox: 'none',
      onSecurityEvent: (event) => events.push(event),
    });
    try {
      expect(runner.isolation).toBe('permission-model');
      await expect(runner.run('spawn.id', {})).rejects.toThrow(/restricted/);
      // Here the signal does reach this process: the guard must keep the inspector shut.
      const error = await failure(runner.run('signal.agent', { pid: process.pid }));
      expect(error.message).toMatch(/ECONNREFUSED/);
      expect(await isListening(9229)).toBe(false);
      expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
    } finally {
      await runner.close();
      tree.cleanup();
    }
  });
});
