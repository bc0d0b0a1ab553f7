import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pack } from '@sonde/pack-sdk';
import docker from '@sonde/pack-docker';
import mysql from '@sonde/pack-mysql';
import nginx from '@sonde/pack-nginx';
import postgres from '@sonde/pack-postgres';
import redis from '@sonde/pack-redis';
import system from '@sonde/pack-system';
import systemd from '@sonde/pack-systemd';
import { ADMIN_KEY, agent, fakeServices, type FakeServices } from './support/fake-services.js';
import { connect, startHub, textJson, type Running } from './support/harness.js';
import { checkTool } from './support/tool-rules.js';

/** The real packs' manifests through the MCP layer: every tool they produce must pass the client rules. */
const PACKS: Pack[] = [system, systemd, docker, nginx, postgres, redis, mysql];

describe('real pack manifests as MCP tools', () => {
  let services: FakeServices;
  let hub: Running;

  beforeAll(async () => {
    const manifests = PACKS.map((p) => p.manifest);
    services = fakeServices({ agents: [agent('web-1', manifests)] });
    hub = await startHub(services);
  });
  afterAll(() => hub.close());

  it('every probe of every pack becomes a valid tool on its pack endpoint; sizes reported', async () => {
    const probeCount = PACKS.reduce((n, p) => n + p.manifest.probes.length, 0);
    let totalBytes = 0;
    const seen = new Set<string>();
    for (const pack of PACKS) {
      const client = await connect(hub, { key: ADMIN_KEY, path: `/mcp/packs/${pack.manifest.name}` });
      // The SDK client compiles every output schema on listTools: a schema it cannot compile fails here.
      const { tools } = await client.listTools();
      for (const tool of tools) expect(checkTool(tool), `${pack.manifest.name}: ${tool.name}`).toEqual([]);
      const probeTools = tools.filter(
        (t) => !['health_check', 'list_capabilities', 'list_agents', 'agent_overview', 'probe', 'diagnose', 'query_logs'].includes(t.name),
      );
      expect(probeTools).toHaveLength(pack.manifest.probes.length);
      for (const t of probeTools) {
        expect(seen.has(t.name)).toBe(false);
        seen.add(t.name);
        expect(t.inputSchema.required).toContain('agent');
      }
      const bytes = Buffer.byteLength(JSON.stringify({ tools }));
      totalBytes += bytes;
      console.log(`/mcp/packs/${pack.manifest.name}: ${tools.length} tools, ${bytes} bytes, about ${Math.round(bytes / 4)} tokens`);
      await client.close();
    }
    const main = await connect(hub, { key: ADMIN_KEY });
    const { tools } = await main.listTools();
    const mainBytes = Buffer.byteLength(JSON.stringify({ tools }));
    console.log(
      `/mcp with ${probeCount} real probes: ${tools.length} tools, ${mainBytes} bytes, about ${Math.round(mainBytes / 4)} tokens; all pack endpoints together ${totalBytes} bytes`,
    );
    expect(tools.length).toBe(7 + probeCount <= 40 ? 7 + probeCount : 7);
    const caps = textJson(await main.callTool({ name: 'list_capabilities', arguments: {} }));
    expect(caps.packs.flatMap((p: { probes: unknown[] }) => p.probes)).toHaveLength(probeCount);
    await main.close();
  });
});
