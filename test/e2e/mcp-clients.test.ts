import { execFile } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.js';
import { inspectorBin, mcpRemoteBin, modernNode } from './support/tools.js';

/**
 * Issue 11's "done when": a real hub, a real unprivileged agent and three MCP
 * clients nobody here wrote (the official SDK client, mcp-remote as a stdio
 * bridge, the MCP Inspector CLI) — enroll, list tools, call a meta tool and a
 * per-probe tool, find the audit entries and verify the chain.
 */

interface ToolText {
  content: Array<{ type: string; text: string }>;
  isError?: boolean;
}

function parseText(result: unknown): Record<string, unknown> {
  const first = (result as ToolText).content[0];
  expect(first?.type).toBe('text');
  return JSON.parse(first.text) as Record<string, unknown>;
}

let stack: Stack;
let mcpUrl: string;

beforeAll(async () => {
  stack = await startStack({ packs: ['system'] });
  mcpUrl = `${stack.hub.url}/mcp`;
  await stack.waitForAgentOnline();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function sdkClient(key: string, name = 'sonde-e2e'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${key}` } } }),
  );
  return client;
}

describe('official MCP SDK client over Streamable HTTP', () => {
  it('lists meta tools and the per-probe tools of the approved pack', async () => {
    const client = await sdkClient(stack.adminKey);
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['list_agents', 'probe', 'health_check', 'system_memory_usage', 'system_disk_usage']));
    for (const tool of tools) {
      expect(tool.name).toMatch(/^[a-z0-9_]{1,48}$/);
      expect(tool.annotations?.readOnlyHint).toBe(true);
      expect(tool.annotations?.destructiveHint).toBe(false);
    }
    await client.close();
  });

  it('sees the agent online and runs a probe on it through a per-probe tool', async () => {
    const client = await sdkClient(stack.adminKey);
    const agents = parseText(await client.callTool({ name: 'list_agents', arguments: {} }));
    expect(JSON.stringify(agents)).toContain(stack.agentName);

    const memory = await client.callTool({ name: 'system_memory_usage', arguments: { agent: stack.agentName } });
    expect((memory as ToolText).isError).toBeFalsy();
    const text = JSON.stringify(parseText(memory));
    // Real numbers from the agent's host, not a canned answer.
    expect(text).toMatch(/"totalBytes":\d{6,}/);
    await client.close();
  });

  it('runs a probe through the meta tool and records one audit entry per call, with a verifiable chain', async () => {
    const client = await sdkClient(stack.adminKey, 'audit-check');
    const before = (await stack.rest<{ entries: unknown[] }>('/api/v1/audit?tool=probe&limit=500')).body.entries.length;
    const result = await client.callTool({
      name: 'probe',
      arguments: { agent: stack.agentName, probe: 'system.load.average', params: {} },
    });
    expect((result as ToolText).isError).toBeFalsy();
    expect(JSON.stringify(parseText(result))).toContain('load');
    await client.close();

    const after = (
      await stack.rest<{ entries: Array<{ tool: string; agents: string[]; probe: string; status: string }> }>(
        '/api/v1/audit?tool=probe&limit=500',
      )
    ).body.entries;
    expect(after.length).toBe(before + 1);
    expect(after[0]).toMatchObject({ tool: 'probe', probe: 'system.load.average', status: 'ok', agents: [stack.agentName] });
    const verify = await stack.rest<{ ok: boolean }>('/api/v1/audit/verify?full=true');
    expect(verify.body.ok).toBe(true);
  });

  it('refuses the agent key and a bad key on /mcp, and hides agents a scoped key may not use', async () => {
    const bad = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sonde_not-a-key',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(bad.status).toBe(401);

    const scoped = await stack.createKey(['--name', 'scoped', '--role', 'member', '--agents', 'prod-*']);
    const client = await sdkClient(scoped);
    const agents = parseText(await client.callTool({ name: 'list_agents', arguments: {} }));
    expect(JSON.stringify(agents)).not.toContain(stack.agentName);
    const denied = await client.callTool({ name: 'probe', arguments: { agent: stack.agentName, probe: 'system.uptime', params: {} } });
    expect((denied as ToolText).isError).toBe(true);
    await client.close();
  });
});

describe('mcp-remote stdio bridge (how Claude Desktop connects)', () => {
  it('lists tools and calls a per-probe tool through the bridge', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [mcpRemoteBin(), mcpUrl, '--header', `Authorization: Bearer ${stack.adminKey}`, '--transport', 'http-only'],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'claude-desktop-via-mcp-remote', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('system_uptime');
    const uptime = parseText(await client.callTool({ name: 'system_uptime', arguments: { agent: stack.agentName } }));
    expect(JSON.stringify(uptime)).toMatch(/"uptimeSeconds":\d+/);
    await client.close();
  }, 180_000);
});

describe('MCP Inspector CLI', () => {
  function inspector(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        modernNode(),
        [inspectorBin(), '--cli', mcpUrl, '--transport', 'http', '--header', `Authorization: Bearer ${stack.adminKey}`, ...args],
        { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  }

  it('lists the tools and calls list_agents', async () => {
    const listed = await inspector(['--method', 'tools/list']);
    expect(listed.code, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as { tools: Array<{ name: string }> }).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['list_agents', 'system_memory_usage']));

    const called = await inspector(['--method', 'tools/call', '--tool-name', 'list_agents']);
    expect(called.code, called.stderr).toBe(0);
    expect(called.stdout).toContain(stack.agentName);
  }, 180_000);
});
