import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { startStack, type Stack } from '../e2e/support/stack.js';

/**
 * Issue 25, faults on real processes: the hub's file system full or read-only under a running hub (a size-limited
 * tmpfs this test mounts), an agent killed while it holds a probe, and the hub killed while an MCP call waits for an
 * agent. Each gets a clear error, nothing crashes, the audit chain verifies afterwards, and writes resume when the
 * file system does.
 */
const isRoot = process.getuid?.() === 0;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function smallFileSystem(sizeMb: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-fault-fs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
  cleanups.push(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the file system holding `dir` until ENOSPC; returns the filler file. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let size = 0;
  const parts: Buffer[] = [];
  for (;;) {
    try {
      parts.push(chunk);
      size += chunk.length;
      writeFileSync(filler, Buffer.concat(parts, size));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      parts.pop();
      size -= chunk.length;
      writeFileSync(filler, Buffer.concat(parts, size));
      // The last blocks too: a write of one more small chunk fails.
      for (let small = 4096; small > 0; small = Math.floor(small / 2)) {
        try {
          writeFileSync(filler, Buffer.alloc(small), { flag: 'a' });
        } catch {
          // full at this size
        }
      }
      return filler;
    }
  }
}

async function hubOn(
  dir: string,
  extra: Record<string, string> = {},
): Promise<{ hub: RunningHub; env: Record<string, string>; key: string }> {
  const env = {
    SONDE_SECRET: randomBytes(32).toString('base64'),
    SONDE_DB_PATH: path.join(dir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    SONDE_PORT: '0',
    SONDE_LOG_LEVEL: 'info',
    ...extra,
  };
  const hub = await startHubProcess(env);
  cleanups.push(async () => {
    if (hub.child.exitCode === null) await hub.stop();
  });
  const created = await runCli(['keys', 'create', '--name', 'root', '--role', 'admin', '--json'], env);
  expect(created.code).toBe(0);
  return { hub, env, key: (JSON.parse(created.stdout) as { rawKey: string }).rawKey };
}

async function createKey(
  url: string,
  key: string,
  name: string,
): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  const response = await fetch(`${url}/api/v1/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, role: 'member' }),
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
}

describe.skipIf(!isRoot)('the hub database on a full or read-only file system (tmpfs mounted by the test; needs root)', () => {
  it('disk full: writes fail with a clear error, the hub keeps serving, writes resume when space returns, the chain verifies', async () => {
    const dir = smallFileSystem(8);
    const { hub, env, key } = await hubOn(dir);
    expect((await createKey(hub.url, key, 'before-full')).status).toBe(201);
    const filler = fill(dir);

    // SQLite may still have room in pages it holds (the WAL): write until the file system says no.
    let refusedAt = 0;
    let refused = await createKey(hub.url, key, 'while-full-0');
    while (refused.status === 201 && refusedAt < 2_000) refused = await createKey(hub.url, key, `while-full-${++refusedAt}`);
    expect(refused.status).toBe(507);
    expect(refused.body.error?.code).toBe('SONDE_ERR_STORAGE_FULL');
    expect(refused.body.error?.message).toMatch(/no space left/i);
    // Still up and answering; readiness names the database only if reads fail (they do not).
    expect((await fetch(`${hub.url}/api/v1/health`)).status).toBe(200);
    expect(hub.child.exitCode).toBeNull();

    rmSync(filler);
    const after = await createKey(hub.url, key, 'after-full');
    expect(after.status).toBe(201);
    await hub.stop();
    const verify = await runCli(['audit', 'verify', '--json'], env);
    expect(verify.code).toBe(0);
    // The refused key is not there; the one after the disk had room again is.
    const keys = (JSON.parse((await runCli(['keys', 'list', '--json'], env)).stdout) as { name: string }[]).map((k) => k.name);
    expect(keys).toContain('after-full');
    expect(keys).not.toContain(`while-full-${refusedAt}`);
  });

  it('read-only file system: the hub refuses to start and the CLI refuses to write, clearly, nothing touched; both work after remount', async () => {
    const dir = smallFileSystem(16);
    const { hub, env, key } = await hubOn(dir);
    expect((await createKey(hub.url, key, 'before-ro')).status).toBe(201);
    await hub.stop();
    // A mounted file system with files open for writing cannot become read-only: the hub is stopped first.
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    let remounted = false;
    cleanups.push(() => {
      if (!remounted) execFileSync('mount', ['-o', 'remount,rw', dir]);
    });
    const started = await startHubProcess({ ...env, SONDE_PORT: '0' }).then(
      async (running) => {
        await running.stop();
        return 'started';
      },
      (error: Error) => error.message,
    );
    expect(started).toMatch(/hub exited with \d+/);
    expect(started).toMatch(/read-only/i);
    expect(started).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
    const cli = await runCli(['keys', 'create', '--name', 'while-ro', '--role', 'member'], env);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/read-only/i);
    expect(cli.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);

    execFileSync('mount', ['-o', 'remount,rw', dir]);
    remounted = true;
    const again = await startHubProcess(env);
    cleanups.push(async () => {
      if (again.child.exitCode === null) await again.stop();
    });
    expect((await createKey(again.url, key, 'after-ro')).status).toBe(201);
    await again.stop();
    expect((await runCli(['audit', 'verify', '--json'], env)).code).toBe(0);
  });
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

describe.skipIf(!isRoot)('processes killed while a probe is in flight (real hub, real agent; the agent runs as the sonde user)', () => {
  let stack: Stack;
  let restarted: RunningHub | undefined;
  beforeAll(async () => {
    stack = await startStack({ packs: ['system'], agentName: 'fault-agent' });
    await stack.waitForAgentOnline();
  }, 180_000);
  afterAll(async () => {
    // A test that failed between SIGSTOP and SIGCONT must not leave a frozen agent that ignores SIGTERM.
    try {
      if (stack?.agent.child.exitCode === null) process.kill(stack.agent.child.pid!, 'SIGCONT');
    } catch {
      // already gone
    }
    await restarted?.stop();
    await stack?.stop();
  });

  const mcpClient = async (url: string): Promise<Client> => {
    const client = new Client({ name: 'fault-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${stack.adminKey}` } } }),
    );
    return client;
  };
  it('hub SIGKILLed while an MCP call waits for the agent: the client gets an error, no half entry, the chain verifies after restart', async () => {
    const client = await mcpClient(stack.hub.url);
    const before = (await client.callTool({ name: 'system_memory_usage', arguments: { agent: stack.agentName } })) as ToolResult;
    expect(before.isError).toBeFalsy();

    const agentPid = stack.agent.child.pid!;
    process.kill(agentPid, 'SIGSTOP');
    const started = performance.now();
    const call = client.callTool({ name: 'system_memory_usage', arguments: { agent: stack.agentName } }).then(
      (result) => ({ result: result as ToolResult, ms: performance.now() - started }),
      (error: Error) => ({ error, ms: performance.now() - started }),
    );
    await sleep(1_000);
    stack.hub.child.kill('SIGKILL');
    const outcome = await call;
    expect('error' in outcome).toBe(true);
    expect(outcome.ms).toBeLessThan(5_000);
    expect(String((outcome as { error: Error }).error.message).length).toBeGreaterThan(0);
    await client.close().catch(() => undefined);

    // The same address, the same database: what was committed is there once, the killed call left nothing.
    restarted = await startHubProcess({ ...stack.hubEnv, SONDE_PORT: String(stack.hub.port) });
    const verify = await runCli(['audit', 'verify', '--json'], stack.hubEnv);
    expect(verify.code).toBe(0);
    const page = await fetch(`${restarted.url}/api/v1/audit?tool=system_memory_usage&limit=500`, {
      headers: { authorization: `Bearer ${stack.adminKey}` },
    }).then((r) => r.json() as Promise<{ entries: { status: string }[] }>);
    // The answered call once; the call the kill cut off never committed an entry (nor half of one).
    expect(page.entries.map((e) => e.status)).toEqual(['ok']);

    // The agent, thawed, comes back to the restarted hub on its own and answers again.
    process.kill(agentPid, 'SIGCONT');
    const back = performance.now();
    await stack.waitForAgentOnline(70_000);
    const reconnectMs = performance.now() - back;
    const again = await mcpClient(restarted.url);
    const after = (await again.callTool({ name: 'system_memory_usage', arguments: { agent: stack.agentName } })) as ToolResult;
    expect(after.isError).toBeFalsy();
    await again.close();
    console.log(`hub killed mid-call: client error after ${Math.round(outcome.ms)} ms; agent back after ${Math.round(reconnectMs)} ms`);
  }, 120_000);

  it('agent SIGKILLed while it holds a probe: the caller gets SONDE_ERR_AGENT_DISCONNECTED within seconds, not the 40 s timeout', async () => {
    const url = restarted?.url ?? stack.hub.url;
    const agentPid = stack.agent.child.pid!;
    process.kill(agentPid, 'SIGSTOP');
    const started = performance.now();
    const answer = fetch(`${url}/api/v1/probes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: stack.agentName, probe: 'system.memory.usage', params: {}, timeoutMs: 40_000 }),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { status: string; error?: { code: string; message: string } },
    }));
    await sleep(1_000);
    process.kill(agentPid, 'SIGKILL');
    const { status, body } = await answer;
    const ms = performance.now() - started;
    expect(status).toBe(200);
    // 'offline' with the code that says it went away mid-probe (not that it was never there).
    expect(body.status).toBe('offline');
    expect(body.error?.code).toBe('SONDE_ERR_AGENT_DISCONNECTED');
    expect(body.error).toMatchObject({ message: expect.stringMatching(/disconnected before answering system\.memory\.usage/) as unknown });
    expect(ms).toBeLessThan(5_000);
    console.log(`agent killed mid-probe: caller answered after ${Math.round(ms)} ms (1,000 ms of it before the kill)`);
    const verify = await runCli(['audit', 'verify', '--json'], stack.hubEnv);
    expect(verify.code).toBe(0);
  }, 60_000);
});
