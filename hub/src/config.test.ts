import { describe, expect, it } from 'vitest';
import { ConfigError, loadAdminConfig, loadConfig } from './config.js';

const good = { SONDE_SECRET: 's'.repeat(32), SONDE_ADMIN_USER: 'admin', SONDE_ADMIN_PASSWORD: 'p'.repeat(12) };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(good);
    expect(config).toMatchObject({
      dbPath: './sonde.db',
      port: 3000,
      host: '127.0.0.1',
      heartbeatMs: 15_000,
      wireSignature: 'ed25519',
      mcpMaxTools: 40,
      userMaxKeys: 5,
      identity: undefined,
      logLevel: 'info',
      tls: { mode: 'off' },
      publicUrl: undefined,
    });
  });

  it('reads SONDE_MCP_ALLOWED_HOSTS as a list and refuses a URL in it by name', () => {
    expect(loadConfig(good).mcpAllowedHosts).toEqual([]);
    expect(loadConfig({ ...good, SONDE_MCP_ALLOWED_HOSTS: 'mcp.example.com, proxy.lan:8443 [::1]' }).mcpAllowedHosts).toEqual([
      'mcp.example.com',
      'proxy.lan:8443',
      '[::1]',
    ]);
    expect(problems({ ...good, SONDE_MCP_ALLOWED_HOSTS: 'https://mcp.example.com' })).toEqual([
      expect.stringMatching(/^SONDE_MCP_ALLOWED_HOSTS .*host names/),
    ]);
  });

  it('reads SONDE_WIRE_SIGNATURE and refuses other algorithms by name', () => {
    expect(loadConfig({ ...good, SONDE_WIRE_SIGNATURE: 'rsa-sha256' }).wireSignature).toBe('rsa-sha256');
    expect(problems({ ...good, SONDE_WIRE_SIGNATURE: 'none' })).toEqual([
      expect.stringMatching(/^SONDE_WIRE_SIGNATURE .*'ed25519' or 'rsa-sha256'/),
    ]);
  });

  it('names the variable in one line per problem', () => {
    const lines = problems({ SONDE_ADMIN_PASSWORD: 'short' });
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.startsWith('SONDE_SECRET '))).toMatch(/required/);
    expect(lines.find((l) => l.startsWith('SONDE_ADMIN_USER '))).toMatch(/required/);
    expect(lines.find((l) => l.startsWith('SONDE_ADMIN_PASSWORD '))).toMatch(/at least 12/);
    for (const line of lines) expect(line).not.toContain('\n');
  });

  it('reports single sign-on problems with the rest, one line each', () => {
    const lines = problems({ ...good, SONDE_ENTRA_ENABLED: 'true', SONDE_ENTRA_TENANT_ID: 'organizations' });
    expect(lines).toContain(
      'SONDE_ENTRA_ALLOWED_TENANTS is required when SONDE_ENTRA_TENANT_ID=organizations: list the directory ids allowed to sign in',
    );
    expect(lines.some((l) => l.startsWith('SONDE_ENTRA_CLIENT_ID is required'))).toBe(true);
    // The client secret may be set through the API later (sealed at rest), so its absence is not a start-up problem.
    expect(lines.some((l) => l.startsWith('SONDE_ENTRA_CLIENT_SECRET'))).toBe(false);
    expect(lines).toHaveLength(2);
  });

  it('refuses a SONDE_SECRET shorter than 32 characters', () => {
    expect(problems({ ...good, SONDE_SECRET: 's'.repeat(31) })).toEqual(['SONDE_SECRET must be at least 32 characters']);
  });

  it('treats empty variables as unset (compose leaves them empty)', () => {
    expect(loadConfig({ ...good, SONDE_PORT: '', SONDE_PUBLIC_URL: '' })).toMatchObject({ port: 3000, publicUrl: undefined });
  });

  it('reads TLS settings', () => {
    expect(loadConfig({ ...good, SONDE_TLS: 'auto', SONDE_TLS_HOSTNAMES: 'hub.example.com, 10.0.0.1' }).tls).toEqual({
      mode: 'auto',
      hostnames: ['hub.example.com', '10.0.0.1'],
    });
    expect(loadConfig({ ...good, SONDE_TLS_CERT: '/c.pem', SONDE_TLS_KEY: '/k.pem' }).tls).toEqual({
      mode: 'files',
      certFile: '/c.pem',
      keyFile: '/k.pem',
    });
    expect(problems({ ...good, SONDE_TLS_CERT: '/c.pem' })).toEqual(['SONDE_TLS_CERT and SONDE_TLS_KEY must be set together']);
    expect(problems({ ...good, SONDE_TLS: 'yes' })[0]).toMatch(/^SONDE_TLS /);
  });

  it('reads SONDE_LISTEN_BACKLOG (default 511, as Node) and refuses what is not a positive whole number', () => {
    expect(loadConfig(good).listenBacklog).toBe(511);
    expect(loadConfig({ ...good, SONDE_LISTEN_BACKLOG: '1024' }).listenBacklog).toBe(1024);
    expect(problems({ ...good, SONDE_LISTEN_BACKLOG: '0' })[0]).toMatch(/^SONDE_LISTEN_BACKLOG /);
    expect(problems({ ...good, SONDE_LISTEN_BACKLOG: 'lots' })[0]).toMatch(/^SONDE_LISTEN_BACKLOG /);
  });

  it('reads SONDE_DIAG_ADDR as host:port (a port alone is loopback) and refuses anything else by name', () => {
    expect(loadConfig(good).diag).toBeUndefined();
    expect(loadConfig({ ...good, SONDE_DIAG_ADDR: '' }).diag).toBeUndefined();
    expect(loadConfig({ ...good, SONDE_DIAG_ADDR: '127.0.0.1:3001' }).diag).toEqual({ host: '127.0.0.1', port: 3001 });
    expect(loadConfig({ ...good, SONDE_DIAG_ADDR: '0.0.0.0:9100' }).diag).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(loadConfig({ ...good, SONDE_DIAG_ADDR: '[::1]:3001' }).diag).toEqual({ host: '::1', port: 3001 });
    expect(loadConfig({ ...good, SONDE_DIAG_ADDR: 'diag.internal:3001' }).diag).toEqual({ host: 'diag.internal', port: 3001 });
    expect(loadConfig({ ...good, SONDE_DIAG_ADDR: '3001' }).diag).toEqual({ host: '127.0.0.1', port: 3001 });
    for (const bad of [':3001', 'localhost', '127.0.0.1:70000', 'http://127.0.0.1:3001', '::1:3001', '127.0.0.1:3001/x']) {
      expect(problems({ ...good, SONDE_DIAG_ADDR: bad }), bad).toEqual([
        expect.stringMatching(/^SONDE_DIAG_ADDR ".*" is not host:port such as 127\.0\.0\.1:3001/),
      ]);
    }
    expect(problems({ ...good, SONDE_PORT: '3000', SONDE_DIAG_ADDR: '127.0.0.1:3000' })).toEqual([
      'SONDE_DIAG_ADDR must use another port than SONDE_PORT (3000): it is a listener of its own',
    ]);
  });

  it('validates numbers and URLs', () => {
    expect(problems({ ...good, SONDE_PORT: 'eighty' })[0]).toMatch(/^SONDE_PORT /);
    expect(problems({ ...good, SONDE_PUBLIC_URL: 'ftp://x' })[0]).toMatch(/^SONDE_PUBLIC_URL /);
    expect(loadConfig({ ...good, SONDE_PUBLIC_URL: 'https://hub.example.com/' }).publicUrl).toBe('https://hub.example.com');
  });

  it('puts the integration trust store and packs folder beside the database unless set', () => {
    expect(loadConfig({ ...good, SONDE_DB_PATH: '/var/lib/sonde/hub.db' }).integrations).toEqual({
      trustFile: '/var/lib/sonde/trust.json',
      packsDir: '/var/lib/sonde/packs',
    });
    expect(
      loadConfig({ ...good, SONDE_TRUST_FILE: '/etc/sonde/trust.json', SONDE_PACKS_DIR: '/srv/packs', SONDE_DB_PATH: '/x/hub.db' })
        .integrations,
    ).toEqual({ trustFile: '/etc/sonde/trust.json', packsDir: '/srv/packs' });
  });

  it('admin CLI config needs only the secret', () => {
    expect(loadAdminConfig({ SONDE_SECRET: good.SONDE_SECRET, SONDE_DB_PATH: '/x.db' })).toMatchObject({ dbPath: '/x.db' });
    expect(() => loadAdminConfig({})).toThrow(/SONDE_SECRET is required/);
  });
});
