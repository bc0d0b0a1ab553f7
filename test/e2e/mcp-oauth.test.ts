import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientMetadata, connectWithOAuth, freePort, MemoryAuthProvider, TestUserAgent } from '../../hub/test/oauth/support.js';
import { startStack, type Stack } from './support/stack.js';
import { mcpRemoteBin } from './support/tools.js';

/**
 * Issue 24's "done when", against a real hub process and a real agent: MCP
 * clients that hold no key discover the hub from a bare 401, register, sign the
 * user in through the hub's pages (driven by a headless user agent), and run a
 * probe on the agent; the audit names the user and the OAuth client. Then
 * mcp-remote (how Claude Desktop connects) does the same flow itself.
 */

interface AuditEntry {
  tool: string | null;
  actor: { kind: string; id: string | null; name: string | null };
  clientId: string | null;
  status: string;
  agents: string[];
}

let stack: Stack;
let mcpUrl: string;
let login: { kind: 'local'; user: string; password: string };
const configDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-mcp-remote-'));

beforeAll(async () => {
  stack = await startStack({ packs: ['system'] });
  mcpUrl = `${stack.hub.url}/mcp`;
  login = { kind: 'local', user: stack.hubEnv.SONDE_ADMIN_USER, password: stack.hubEnv.SONDE_ADMIN_PASSWORD };
  await stack.waitForAgentOnline();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

async function lastCall(tool: string): Promise<AuditEntry | undefined> {
  const { body } = await stack.rest<{ entries: AuditEntry[] }>(`/api/v1/audit?tool=${tool}&limit=50`);
  return body.entries[0];
}

describe('the SDK client with OAuth, no key', () => {
  it('discovers, registers (DCR), signs in, consents and runs a probe on the real agent as the admin user', async () => {
    const redirect = 'http://127.0.0.1:40004/callback';
    const provider = new MemoryAuthProvider(redirect, clientMetadata(redirect, 'E2E OAuth client'));
    const { client, callback } = await connectWithOAuth(mcpUrl, provider, new TestUserAgent(stack.hub.url), login);
    expect(callback.searchParams.get('iss')).toBe(stack.hub.url);
    const memory = (await client.callTool({ name: 'system_memory_usage', arguments: { agent: stack.agentName } })) as {
      content: Array<{ text: string }>;
      isError?: boolean;
    };
    expect(memory.isError).toBeFalsy();
    expect(memory.content[0].text).toMatch(/"totalBytes":\d{6,}/);
    await client.close();
    expect(await lastCall('system_memory_usage')).toMatchObject({
      actor: { kind: 'user', name: login.user },
      clientId: provider.info!.client_id,
      status: 'ok',
      agents: [stack.agentName],
    });
  });
});

describe('mcp-remote (how Claude Desktop connects) completing the OAuth flow headless', () => {
  it('prints the authorization URL, receives the code on its loopback callback, then lists tools and runs a probe', async () => {
    const port = await freePort();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [mcpRemoteBin(), mcpUrl, String(port), '--transport', 'http-only'],
      env: { ...(process.env as Record<string, string>), MCP_REMOTE_CONFIG_DIR: configDir },
      stderr: 'pipe',
    });
    let output = '';
    const authorizationUrl = new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mcp-remote printed no authorization URL:\n${output}`)), 60_000);
      transport.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Please authorize this client by visiting:\s*\n(\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(new URL(match[1]));
        }
      });
    });
    const client = new Client({ name: 'claude-desktop-via-mcp-remote', version: '1.0.0' });
    const connected = client.connect(transport);
    try {
      const callback = await new TestUserAgent(stack.hub.url).authorize(await authorizationUrl, login);
      expect(callback.origin).toMatch(new RegExp(`^http://(localhost|127\\.0\\.0\\.1):${port}$`));
      // The browser's last step: the redirect to mcp-remote's own callback server. mcp-remote prints the URL before
      // its callback server listens ("Initializing auth coordination on-demand" comes after it), and a quick test
      // user agent can get there first: a refused connection means "not listening yet", so try again until it is.
      const delivered = await fetchOnceListening(callback, 30_000);
      expect(delivered.status).toBe(200);
      await connected;
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('system_uptime');
      const uptime = (await client.callTool({ name: 'system_uptime', arguments: { agent: stack.agentName } })) as {
        content: Array<{ text: string }>;
      };
      expect(uptime.content[0].text).toMatch(/"uptimeSeconds":\d+/);
      const entry = await lastCall('system_uptime');
      expect(entry).toMatchObject({ actor: { kind: 'user', name: login.user }, status: 'ok' });
      // mcp-remote registered itself by DCR: the client id is the one the hub issued, not a self-declared name.
      expect(entry?.clientId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nmcp-remote output:\n${output}`);
    } finally {
      await client.close();
    }
  }, 120_000);
});

/** fetch(url), retried while the connection is refused (the server there is not listening yet), up to `timeoutMs`. */
async function fetchOnceListening(url: URL, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      const code = ((error as Error).cause as { code?: string } | undefined)?.code;
      if (code !== 'ECONNREFUSED' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
