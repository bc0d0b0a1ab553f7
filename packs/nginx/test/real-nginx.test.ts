import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHostContext, runProbe, type Permissions } from '@sonde/pack-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const NGINX = '/usr/sbin/nginx';

/** A port the kernel just handed out; nginx cannot listen on 0 and report it back. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr()}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nginx did not answer on ${url}: ${stderr()}`);
}

describe.skipIf(!existsSync(NGINX))('nginx probes against a real nginx on loopback', () => {
  let dir: string;
  let port: number;
  let child: ChildProcess;
  let permissions: Permissions;
  let stderr = '';

  const onHost = (probe: string, params: unknown, endpoint?: string) =>
    runProbe(pack, probe, params, (signal) => createHostContext({ permissions, signal, endpoint }));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sonde-nginx-'));
    for (const sub of ['logs', 'www', 'tmp']) mkdirSync(path.join(dir, sub));
    writeFileSync(path.join(dir, 'www', 'index.html'), 'hello\n');
    // Workers run as nobody when the tests run as root: they must be able to read the web root.
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, 'www'), 0o755);
    port = await freePort();
    // Own prefix, pid, logs and temp paths; one loopback listener; never the default site.
    const config = `
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log info;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log ${dir}/logs/access.log combined;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    location = /nginx_status { stub_status; allow 127.0.0.1; deny all; }
    location = /boom { return 502; }
  }
}
`;
    writeFileSync(path.join(dir, 'nginx.conf'), config);
    // The pack declares /etc/nginx/** and /var/log/nginx/*; this context declares the temp dir the same way.
    permissions = { ...pack.manifest.permissions, files: [`${dir}/**`, `${dir}/logs/*`] };
    child = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'logs', 'error.log'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitForHttp(`http://127.0.0.1:${port}/`, child, () => stderr);
    const base = `http://127.0.0.1:${port}`;
    await fetch(`${base}/index.html`, { headers: { 'user-agent': 'sonde-test "quoted"', referer: 'http://example.test/' } }).then((r) =>
      r.text(),
    );
    await fetch(`${base}/missing?q=1`).then((r) => r.text());
    await fetch(`${base}/boom`, { method: 'POST', body: 'x=1' }).then((r) => r.text());
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('config.test passes on the running config and points at file:line when broken', async () => {
    const ok = await onHost('config.test', { configPath: path.join(dir, 'nginx.conf') });
    expect(ok.result).toMatchObject({ ok: true, syntaxOk: true, errors: 0 });
    const broken = path.join(dir, 'broken.conf');
    writeFileSync(
      broken,
      readFileSync(path.join(dir, 'nginx.conf'), 'utf8').replace('worker_processes 1;', 'worker_processes 1;\nbogus_directive on;'),
    );
    const failed = await onHost('config.test', { configPath: broken });
    expect(failed.result).toMatchObject({
      ok: false,
      syntaxOk: false,
      messages: [{ level: 'emerg', message: 'unknown directive "bogus_directive"', file: broken, line: 5 }],
    });
  });

  it('access.tail parses the requests just made', async () => {
    const { result } = await onHost('access.tail', { path: path.join(dir, 'logs', 'access.log') });
    const tail = result as {
      entries: Array<{ path: string; status: number; userAgent: string; method: string }>;
      statusCounts: Record<string, number>;
    };
    expect(tail.entries.map((e) => [e.method, e.path, e.status])).toEqual([
      ['GET', '/', 200],
      ['GET', '/index.html', 200],
      ['GET', '/missing?q=1', 404],
      ['POST', '/boom', 502],
    ]);
    expect(tail.entries[1].userAgent).toBe('sonde-test "quoted"');
    expect(tail.statusCounts).toEqual({ '200': 2, '404': 1, '502': 1 });
  });

  it('error.tail finds the 404 open() error with its client and request', async () => {
    const { result } = await onHost('error.tail', { path: path.join(dir, 'logs', 'error.log'), minLevel: 'error' });
    const entries = (result as { entries: Array<{ level: string; client: string; request: string; message: string }> }).entries;
    expect(entries).toContainEqual(expect.objectContaining({ level: 'error', client: '127.0.0.1', request: 'GET /missing?q=1 HTTP/1.1' }));
  });

  it('status reads stub_status through the configured loopback endpoint', async () => {
    const { result } = await onHost('status', {}, `http://127.0.0.1:${port}`);
    expect(result).toMatchObject({ url: `http://127.0.0.1:${port}/nginx_status` });
    expect((result as { requests: number }).requests).toBeGreaterThanOrEqual(4);
  });

  it('version reads the installed binary', async () => {
    const { result } = await onHost('version', {});
    expect((result as { version: string }).version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('the pack defaults refuse the temp files: only /etc/nginx and /var/log/nginx are declared', async () => {
    const defaults = (signal: AbortSignal) => createHostContext({ permissions: pack.manifest.permissions, signal });
    await expect(runProbe(pack, 'access.tail', { path: path.join(dir, 'logs', 'access.log') }, defaults)).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
    await expect(runProbe(pack, 'config.test', { configPath: path.join(dir, 'nginx.conf') }, defaults)).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
  });
});
