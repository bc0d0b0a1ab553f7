import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPack } from '../../pack-tool/test/support.js';
import { REPO, startStack, type Stack } from './support/stack.js';

/**
 * The pack author's inner loop, live: `sonde-pack dev` watching a pack made by
 * the scaffolder, hot-installing each save into a real unprivileged agent that
 * a real hub serves, and an MCP client of that hub seeing the edited code
 * answer, without restarting anything.
 */
const PROBE = 'demo.os.info';
let stack: Stack;
let pack: Awaited<ReturnType<typeof builtPack>>;

beforeAll(async () => {
  [pack, stack] = await Promise.all([builtPack('system'), startStack({ packs: ['system'], agentName: 'dev-box' })]);
  await stack.waitForAgentOnline();
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  pack?.cleanup();
});

interface Cycle {
  ok: boolean;
  step: string;
  install?: { version: string; state: string };
  error?: string;
}

/** `sonde-pack dev --json` as a child: one JSON line per cycle. */
function startDev(dir: string, config: string): { child: ChildProcess; cycle(count: number): Promise<Cycle>; stderr(): string } {
  const sonde = [...(stack.user ? ['runuser', '-u', 'sonde', '--'] : []), process.execPath, path.join(REPO, 'agent/bin/sonde.js')].join(
    ' ',
  );
  const child = spawn(
    process.execPath,
    [path.join(REPO, 'pack-tool/bin/sonde-pack.js'), 'dev', '--json', '--agent-home', stack.agentHome, '--sonde', sonde],
    { cwd: dir, env: { ...process.env, XDG_CONFIG_HOME: config }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const cycles: Cycle[] = [];
  let buffer = '';
  let stderr = '';
  let waiting: { count: number; resolve: () => void } | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      cycles.push(JSON.parse(buffer.slice(0, nl)) as Cycle);
      buffer = buffer.slice(nl + 1);
    }
    if (waiting && cycles.length >= waiting.count) waiting.resolve();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    child,
    stderr: () => stderr,
    cycle: (count) =>
      new Promise<void>((resolve, reject) => {
        if (cycles.length >= count) return resolve();
        waiting = { count, resolve };
        child.once('exit', (code) => reject(new Error(`sonde-pack dev exited ${code}: ${stderr}`)));
      }).then(() => cycles[count - 1]),
  };
}

/** What the hub's MCP endpoint answers for the probe right now: the result's `name`, or the error text. */
async function answer(): Promise<{ name?: string; error?: string; tool: boolean }> {
  const client = new Client({ name: 'pack-dev-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${stack.hub.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${stack.adminKey}` } },
    }),
  );
  try {
    const tool = (await client.listTools()).tools.some((candidate) => candidate.name === PROBE.replaceAll('.', '_'));
    const result = (await client.callTool({ name: 'probe', arguments: { agent: stack.agentName, probe: PROBE, params: {} } })) as {
      content: Array<{ text: string }>;
      isError?: boolean;
    };
    const text = result.content[0]?.text ?? '';
    if (result.isError) return { error: text, tool };
    return { name: /"name":"([^"]*)"/.exec(text)?.[1], tool };
  } finally {
    await client.close();
  }
}

async function until(
  check: (seen: Awaited<ReturnType<typeof answer>>) => boolean,
  timeoutMs = 30_000,
): Promise<Awaited<ReturnType<typeof answer>>> {
  const deadline = Date.now() + timeoutMs;
  let seen = await answer();
  while (!check(seen)) {
    if (Date.now() > deadline)
      throw new Error(`not seen within ${timeoutMs} ms; last answer ${JSON.stringify(seen)}\n${stack.agent.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    seen = await answer();
  }
  return seen;
}

describe('sonde-pack dev against a running agent and hub', () => {
  it('each save is served to MCP clients of the hub within seconds, with no restart', async () => {
    const started = performance.now();
    const dir = pack.copy('dev-live');
    const config = mkdtempSync(path.join(os.tmpdir(), 'sonde-dev-config-'));
    const dev = startDev(dir, config);
    const probeFile = path.join(dir, 'src/probe.ts');
    const original = readFileSync(probeFile, 'utf8');
    try {
      const first = await dev.cycle(1);
      expect(first, dev.stderr()).toMatchObject({ ok: true, install: { state: 'active' } });
      // The running agent picks the dev build up and the hub lists it: the probe is a tool an AI client can call.
      const before = await until((seen) => seen.tool && typeof seen.name === 'string');
      expect(before.name).not.toBe('edited in dev');
      const firstServed = performance.now();

      writeFileSync(probeFile, original.replace(/return (toOsInfo\([^;]+\));/, "return { ...$1, name: 'edited in dev' };"));
      const second = await dev.cycle(2);
      expect(second, dev.stderr()).toMatchObject({ ok: true, install: { state: 'active' } });
      expect(second.install?.version).not.toBe(first.install?.version);
      const saved = performance.now();
      await until((seen) => seen.name === 'edited in dev');
      console.log(
        `sonde-pack dev live: first build served after ${Math.round(firstServed - started)} ms; save → served by MCP in ${Math.round(performance.now() - saved)} ms`,
      );
    } finally {
      if (dev.child.exitCode === null) process.kill(-dev.child.pid!, 'SIGTERM');
      rmSync(config, { recursive: true, force: true });
    }
  }, 240_000);
});
