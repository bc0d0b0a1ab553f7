import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as runHubCli } from '../../hub/test/process.js';
import { postgresForTests } from '../../hub/test/postgres/support.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * The real deployment in miniature (support/stack.ts) with its state in PostgreSQL (SONDE_DATABASE_URL on a fresh
 * database of the machine's server): the hub CLI mints the token and key, a real agent enrolls and connects, an MCP
 * client runs a probe on it, and `sonde-hub audit verify` walks the chain the hub wrote in PostgreSQL.
 */
const pg = await postgresForTests(import.meta.url);
let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
  await pg.dropAll();
});

type ToolText = { content: { type: string; text: string }[]; isError?: boolean };

describe('sonde-hub on PostgreSQL with a real agent', () => {
  it.skipIf(!pg.available.holds)(`enrolls, serves an MCP probe call and verifies its audit chain ${pg.available.reason}`, async () => {
    const url = await pg.fresh();
    stack = await startStack({ packs: ['system'], agentName: 'pg-agent', hubEnv: { SONDE_DATABASE_URL: url } });
    await stack.waitForAgentOnline();

    const client = new Client({ name: 'pg-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${stack.hub.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${stack.adminKey}` } },
      }),
    );
    const result = (await client.callTool({
      name: 'probe',
      arguments: { agent: stack.agentName, probe: 'system.load.average', params: {} },
    })) as ToolText;
    await client.close();
    expect(result.isError).toBeFalsy();
    expect(result.content[0].text).toContain('load');

    const entries = (await stack.rest<{ entries: Array<Record<string, unknown>> }>('/api/v1/audit?tool=probe&limit=10')).body.entries;
    expect(entries[0]).toMatchObject({ tool: 'probe', probe: 'system.load.average', status: 'ok', agents: [stack.agentName] });

    // The headless CLI on the same database (no SQLite file anywhere: SONDE_DB_PATH's folder only holds trust and packs).
    const verify = await runHubCli(['audit', 'verify', '--full', '--json'], stack.hubEnv);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const verified = JSON.parse(verify.stdout) as { ok: boolean; checked: number };
    expect(verified.ok).toBe(true);
    // Enrollment, the token and key the CLI made, the probe call: all in the one chain.
    expect(verified.checked).toBeGreaterThanOrEqual(4);
    expect(existsSync(stack.hubEnv.SONDE_DB_PATH)).toBe(false);
  });
});
