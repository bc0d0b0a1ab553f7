import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresManifest, systemManifest, widePackManifest } from './support/fake-packs.js';
import { ADMIN_KEY, agent, fakeServices, principal, type FakeServices } from './support/fake-services.js';
import { connect, startHub, textJson, type Running } from './support/harness.js';
import { checkTool } from './support/tool-rules.js';

describe('tool list', () => {
  let services: FakeServices;
  let hub: Running;

  beforeAll(async () => {
    services = fakeServices();
    services.keys.set('sk-system', principal('system-only', { allowedProbes: ['system.*'] }));
    hub = await startHub(services);
  });
  afterAll(() => hub.close());

  it('every tool on every endpoint follows the client rules; reports the size of tools/list for an admin key', async () => {
    for (const path of ['/mcp', '/mcp/packs/system', '/mcp/packs/postgres']) {
      const client = await connect(hub, { key: ADMIN_KEY, path });
      const { tools } = await client.listTools();
      for (const tool of tools) expect(checkTool(tool), `${path} ${tool.name}`).toEqual([]);
      if (path === '/mcp') {
        const bytes = Buffer.byteLength(JSON.stringify({ tools }));
        console.log(`tools/list on /mcp (admin key): ${tools.length} tools, ${bytes} bytes, about ${Math.round(bytes / 4)} tokens`);
      }
      await client.close();
    }
  });

  it('lists the meta tools and, under the cap, each approved probe as its own tool with agent + params input', async () => {
    const client = await connect(hub, { key: ADMIN_KEY });
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names.slice(0, 7)).toEqual([
      'health_check',
      'list_capabilities',
      'list_agents',
      'agent_overview',
      'probe',
      'diagnose',
      'query_logs',
    ]);
    expect(names).toEqual(
      expect.arrayContaining(['system_disk_usage', 'system_logs_tail', 'system_big_output', 'system_slow_probe', 'postgres_connections']),
    );
    const disk = tools.find((t) => t.name === 'system_disk_usage')!;
    expect(disk.inputSchema.required).toEqual(['agent']);
    expect(Object.keys(disk.inputSchema.properties ?? {})).toEqual(['agent', 'mount']);
    expect(disk.outputSchema?.properties).toHaveProperty('data');
    expect(disk.annotations?.openWorldHint).toBe(false);
    expect(tools.find((t) => t.name === 'postgres_connections')!.annotations?.openWorldHint).toBe(true);
    // Only active packs become tools: db-1's failed postgres pack adds nothing, web-1's active one does.
    await client.close();
  });

  it('shows a probe tool only when the key may run it somewhere', async () => {
    const client = await connect(hub, { key: 'sk-system' });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('system_disk_usage');
    expect(names).not.toContain('postgres_connections');
    await client.close();
  });

  it('answers 404 for a pack nobody serves', async () => {
    await expect(connect(hub, { key: ADMIN_KEY, path: '/mcp/packs/nosuch' })).rejects.toThrow(/404|no agent serves pack/);
  });
});

describe('tool list over the client cap', () => {
  let services: FakeServices;
  let hub: Running;

  beforeAll(async () => {
    const wide = widePackManifest(30);
    services = fakeServices({ mcpMaxTools: 12, agents: [agent('web-1', [systemManifest, postgresManifest, wide])] });
    services.keys.set('sk-system', principal('system-only', { allowedProbes: ['system.*'] }));
    services.behaviour = (request) => ({
      agent: request.agent,
      probe: request.probe,
      status: 'ok',
      result: { value: 1 },
      durationMs: 1,
      truncated: false,
    });
    hub = await startHub(services);
  });
  afterAll(() => hub.close());

  it('moves per-probe tools to /mcp/packs/<pack> when the whole list would pass mcpMaxTools, and says so in list_capabilities', async () => {
    const main = await connect(hub, { key: ADMIN_KEY });
    const names = (await main.listTools()).tools.map((t) => t.name);
    expect(names).toHaveLength(7);
    const caps = textJson(await main.callTool({ name: 'list_capabilities', arguments: {} }));
    expect(caps.probeToolsOnMain).toBe(false);
    const widePack = caps.packs.find((p: { pack: string }) => p.pack === 'wide');
    expect(widePack.probeToolsOn).toEqual(['/mcp/packs/wide']);
    expect(widePack.probes[3]).toMatchObject({ probe: 'wide.metric3', tool: 'wide_metric3' });

    const pack = await connect(hub, { key: ADMIN_KEY, path: '/mcp/packs/wide' });
    const packNames = (await pack.listTools()).tools.map((t) => t.name);
    expect(packNames).toHaveLength(37);
    expect(packNames).not.toContain('system_disk_usage');
    const result = await pack.callTool({ name: 'wide_metric3', arguments: { agent: 'web-1' } });
    expect(textJson(result).data).toEqual({ value: 1 });
    // A pack endpoint serves only its own pack's probe tools.
    const foreign = await pack.callTool({ name: 'system_disk_usage', arguments: { agent: 'web-1' } });
    expect(foreign.isError).toBe(true);

    // /mcp still runs a probe tool it no longer lists, so a client that listed earlier keeps working.
    const late = await main.callTool({ name: 'wide_metric3', arguments: { agent: 'web-1' } });
    expect(late.isError).toBeFalsy();
    await main.close();
    await pack.close();
  });

  it('decides per key: a narrower key stays under the cap and keeps its probe tools on /mcp', async () => {
    const client = await connect(hub, { key: 'sk-system' });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toHaveLength(11);
    expect(names).toContain('system_disk_usage');
    await client.close();
  });
});
