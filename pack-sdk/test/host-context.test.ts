import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermissionsSchema, createHostContext, type PermissionsInput, type ProbeContext } from '@sonde/pack-sdk';

/** Real processes, real files, real sockets: what the agent does on a host. */

const dir = mkdtempSync(path.join(tmpdir(), 'sonde-host-'));
const logs = path.join(dir, 'logs');
const protectedDir = path.join(dir, 'agent');
const outside = path.join(tmpdir(), `sonde-outside-${process.pid}.txt`);
const hits: string[] = [];
let server: Server;
let other: Server;
let port = 0;
let otherPort = 0;

beforeAll(async () => {
  mkdirSync(logs);
  mkdirSync(protectedDir);
  writeFileSync(path.join(logs, 'app.log'), 'line 1\nline 2\nline 3\n');
  writeFileSync(path.join(protectedDir, 'agent.key'), 'KEY');
  writeFileSync(outside, 'outside');
  symlinkSync('/etc/passwd', path.join(logs, 'passwd.log'));
  symlinkSync(outside, path.join(logs, 'outside.log'));
  symlinkSync(protectedDir, path.join(logs, 'agent-link'));
  const listen = (handler: Parameters<typeof createServer>[1]) =>
    new Promise<Server>((resolve) => {
      const s = createServer(handler);
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
  other = await listen((req, res) => {
    hits.push(`other ${req.url}`);
    res.end('other');
  });
  otherPort = (other.address() as AddressInfo).port;
  server = await listen((req, res) => {
    hits.push(`main ${req.url}`);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/stolen` });
      return res.end();
    }
    if (req.url === '/big') return res.end('x'.repeat(64 * 1024));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, auth: req.headers.authorization ?? null }));
  });
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server?.close();
  other?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { force: true });
});

function context(permissions: PermissionsInput, options: { timeoutMs?: number; maxOutputBytes?: number } = {}): ProbeContext {
  return createHostContext({
    permissions: PermissionsSchema.parse(permissions),
    signal: new AbortController().signal,
    deniedPaths: [protectedDir],
    ...options,
  });
}

const denied = expect.objectContaining({ code: 'SONDE_ERR_PERMISSION_DENIED' });

describe('exec', () => {
  it('passes shell metacharacters to the binary as one inert argument', async () => {
    const ctx = context({ commands: [{ binary: '/usr/bin/printf', args: [['%s', '<text>']] }] });
    const hostile = '$(id); rm -rf / | cat `whoami` && echo pwned > /tmp/x; ${HOME}';
    const result = await ctx.exec('/usr/bin/printf', ['%s', hostile]);
    expect(result).toEqual({ stdout: hostile, stderr: '', exitCode: 0, truncated: false });
  });

  it('refuses an undeclared command and an undeclared argument shape', async () => {
    const ctx = context({ commands: [{ binary: '/usr/bin/printf', args: [['%s', '<text>']] }] });
    await expect(ctx.exec('/usr/bin/id', [])).rejects.toThrow(denied);
    await expect(ctx.exec('printf', ['%s', 'x'])).rejects.toThrow(denied);
    await expect(ctx.exec('/usr/bin/printf', ['%s', 'x', 'y'])).rejects.toThrow(denied);
    await expect(ctx.exec('/usr/bin/printf', ['%s', '--help'])).rejects.toThrow(denied);
  });

  it('does not pass the agent environment to the child', async () => {
    process.env.SONDE_TEST_SECRET = 'do-not-leak-4711';
    try {
      const ctx = context({ commands: [{ binary: '/usr/bin/env', args: [[]] }] });
      const { stdout } = await ctx.exec('/usr/bin/env', []);
      expect(stdout).not.toContain('do-not-leak-4711');
      expect(stdout).not.toContain('SONDE_TEST_SECRET');
      expect(stdout).toContain('PATH=/usr/local/sbin');
    } finally {
      delete process.env.SONDE_TEST_SECRET;
    }
  });

  it('caps output and says it was truncated', async () => {
    const ctx = context({ commands: [{ binary: 'seq', args: [['1', '<uint>']] }] }, { maxOutputBytes: 4096 });
    const result = await ctx.exec('seq', ['1', '200000']);
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(4096);
    expect(result.stdout.startsWith('1\n2\n3\n')).toBe(true);
  });

  it('kills a command that outlives its timeout', async () => {
    const ctx = context({ commands: [{ binary: 'sleep', args: [['<uint>']] }] }, { timeoutMs: 300 });
    const started = Date.now();
    await expect(ctx.exec('sleep', ['30'])).rejects.toThrow(expect.objectContaining({ code: 'SONDE_ERR_TIMEOUT' }));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a non-zero exit as SONDE_ERR_COMMAND_FAILED unless allowed', async () => {
    const ctx = context({ commands: [{ binary: 'false', args: [[]] }] });
    await expect(ctx.exec('false', [])).rejects.toThrow(expect.objectContaining({ code: 'SONDE_ERR_COMMAND_FAILED' }));
    await expect(ctx.exec('false', [], { okExitCodes: [0, 1] })).resolves.toMatchObject({ exitCode: 1 });
  });

  it('reports a missing binary as SONDE_ERR_COMMAND_NOT_FOUND', async () => {
    const ctx = context({ commands: [{ binary: 'sonde-no-such-binary', args: [[]] }] });
    await expect(ctx.exec('sonde-no-such-binary', [])).rejects.toThrow(expect.objectContaining({ code: 'SONDE_ERR_COMMAND_NOT_FOUND' }));
  });
});

describe('readFile and listDir', () => {
  const files = () => context({ files: [`${logs}/**`, `${protectedDir}/**`] });

  it('reads a declared file, also its tail', async () => {
    await expect(files().readFile(path.join(logs, 'app.log'))).resolves.toEqual({
      content: 'line 1\nline 2\nline 3\n',
      size: 21,
      truncated: false,
    });
    const tail = await files().readFile(path.join(logs, 'app.log'), { tail: true, maxBytes: 10 });
    expect(tail).toMatchObject({ content: 'line 3\n', truncated: true });
  });

  it.each([
    ['a parent-directory escape', () => `${logs}/../../../etc/passwd`],
    ['a non-normalised path', () => `${logs}//app.log`],
    ['a dot segment', () => `${logs}/./app.log`],
    ['a relative path', () => 'app.log'],
    ['an undeclared file', () => '/etc/passwd'],
    ['a symlink to /etc/passwd inside a declared dir', () => path.join(logs, 'passwd.log')],
    ['a symlink to a file outside the declared dir', () => path.join(logs, 'outside.log')],
    ['a host-protected file even though declared', () => path.join(protectedDir, 'agent.key')],
    ['a host-protected file reached through a symlink', () => path.join(logs, 'agent-link', 'agent.key')],
  ])('refuses %s', async (_label, target) => {
    await expect(files().readFile(target())).rejects.toThrow(denied);
  });

  it('reports a missing declared file as SONDE_ERR_FILE_NOT_FOUND', async () => {
    await expect(files().readFile(path.join(logs, 'missing.log'))).rejects.toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_FILE_NOT_FOUND' }),
    );
  });

  it('lists a declared directory and refuses others', async () => {
    await expect(files().listDir(logs)).resolves.toEqual(['agent-link', 'app.log', 'outside.log', 'passwd.log']);
    await expect(files().listDir('/etc')).rejects.toThrow(denied);
    await expect(files().listDir(protectedDir)).rejects.toThrow(denied);
  });
});

describe('http', () => {
  const web = () => context({ network: [{ host: '127.0.0.1', port, protocol: 'http', paths: ['/api/**', '/redirect', '/big'] }] });

  it('reaches a declared endpoint', async () => {
    const response = await web().http(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: 'Bearer t' } });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ok: true, auth: 'Bearer t' });
  });

  it.each([
    ['another port', () => `http://127.0.0.1:${otherPort}/api/status`],
    ['an undeclared path', () => `http://127.0.0.1:${port}/admin`],
    ['another host', () => `http://localhost:${port}/api/status`],
    ['https instead of http', () => `https://127.0.0.1:${port}/api/status`],
    ['credentials in the URL', () => `http://user:pw@127.0.0.1:${port}/api/status`],
    ['a file URL', () => 'file:///etc/passwd'],
  ])('refuses %s', async (_label, url) => {
    await expect(web().http(url())).rejects.toThrow(denied);
  });

  it('does not follow redirects', async () => {
    hits.length = 0;
    const response = await web().http(`http://127.0.0.1:${port}/redirect`);
    expect(response.status).toBe(302);
    expect(hits).toEqual(['main /redirect']);
  });

  it('caps the body it reads', async () => {
    const response = await web().http(`http://127.0.0.1:${port}/big`, { maxBytes: 1000 });
    expect(response.truncated).toBe(true);
    expect(response.body.length).toBeLessThanOrEqual(1000);
  });
});
