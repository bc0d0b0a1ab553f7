import { probeNames, runProbeWithFixtures, type Fixtures, type HttpFixture } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { evaluateGroups, evaluateMachines } from '../src/runbooks/vdi-health.js';
import { recorded } from './recorded.js';

const E = 'https://api.cloud.com';
const CREDS = {
  customerId: 'acme1a2b3c4d',
  clientId: '3f9a1c2e-7b6d-4e5f-8a9b-1c2d3e4f5a6b',
  clientSecret: 'Q2l0cml4U2VjcmV0LXNvbmRlLXRlc3Q=',
};
const common: HttpFixture[] = [
  { url: `${E}/cctrustoauth2/root/tokens/clients`, method: 'POST', body: recorded('token.json') },
  { url: `${E}/cvad/manage/me`, body: recorded('me.json') },
  { url: `${E}/cvad/manage/Machines?limit=1000`, body: recorded('machines-page1.json') },
  { url: `${E}/cvad/manage/Machines?limit=1000&continuationToken=eyJwYWdlIjoyfQ%3D%3D`, body: recorded('machines-page2.json') },
  { url: `${E}/cvad/manage/DeliveryGroups?limit=500`, body: recorded('delivery-groups.json') },
  { url: `${E}/cvad/manage/Sessions?limit=1000`, body: recorded('sessions.json') },
];
const fixtures: Fixtures = { endpoint: E, credentials: CREDS, http: common };

describe('citrix pack manifest', () => {
  it('four read-only open-world probes; the token endpoint and four CVAD REST paths', () => {
    expect(probeNames(pack)).toEqual([
      'citrix.machines.unregistered',
      'citrix.sessions.summary',
      'citrix.delivery_groups.list',
      'citrix.sites.list',
    ]);
    expect(pack.manifest.kind).toBe('integration');
    expect(pack.manifest.probes.every((p) => p.openWorld && p.capability === 'observe')).toBe(true);
    expect(pack.manifest.permissions.network[0].paths).toEqual([
      '/cctrustoauth2/root/tokens/clients',
      '/cvad/manage/me',
      '/cvad/manage/Machines',
      '/cvad/manage/DeliveryGroups',
      '/cvad/manage/Sessions',
    ]);
  });
});

describe('citrix probes on documented answers', () => {
  it('machines.unregistered: token, site from /me, both pages, newest deregistration first', async () => {
    const { result, calls } = await runProbeWithFixtures(pack, 'machines.unregistered', {}, fixtures);
    expect(calls.http.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      'POST /cctrustoauth2/root/tokens/clients',
      'GET /cvad/manage/me',
      'GET /cvad/manage/Machines',
      'GET /cvad/manage/Machines',
    ]);
    expect(result).toMatchObject({
      site: { id: '7c4a1e2b-9f3d-4b8a-a6e5-0d1c2b3a4f5e', name: 'cloudxdsite' },
      total: 4,
      byRegistrationState: { Registered: 1, Unregistered: 2, AgentError: 1 },
      machines: [
        { name: 'ACME\\RDSH-APP-02', registrationState: 'AgentError', lastDeregistrationReason: 'BrokerRegistrationLimitReached' },
        {
          name: 'ACME\\VDA-W11-002',
          faultState: 'Unregistered',
          deliveryGroup: 'Win11 Desktops',
          lastDeregistrationReason: 'AgentNotContactable',
        },
        { name: 'ACME\\RDSH-APP-01', inMaintenanceMode: true, powerState: 'Off' },
      ],
      truncated: false,
    });
  });

  it('machines.unregistered: without maintenance, per delivery group, with a configured site id (no /me call)', async () => {
    const run = await runProbeWithFixtures<{ machines: Array<{ name: string }>; total: number }>(
      pack,
      'machines.unregistered',
      { includeMaintenance: false, deliveryGroup: 'Published Apps' },
      { ...fixtures, credentials: { ...CREDS, siteId: '7c4a1e2b-9f3d-4b8a-a6e5-0d1c2b3a4f5e' } },
    );
    expect(run.result.total).toBe(2);
    expect(run.result.machines.map((m) => m.name)).toEqual(['ACME\\RDSH-APP-02']);
    expect(run.calls.http.some((c) => c.url.endsWith('/cvad/manage/me'))).toBe(false);
  });

  it('delivery_groups.list: unregistered counts, worst first', async () => {
    const { result } = await runProbeWithFixtures(pack, 'delivery_groups.list', {}, fixtures);
    expect(result).toMatchObject({
      groups: [
        { name: 'Published Apps', unregisteredMachines: 2, registeredMachines: 0, sessionSupport: 'MultiSession' },
        { name: 'Win11 Desktops', unregisteredMachines: 1, sessions: 1 },
      ],
    });
  });

  it('sessions.summary: counts, busiest machines, long-disconnected without user names unless asked', async () => {
    const { result } = await runProbeWithFixtures(pack, 'sessions.summary', {}, fixtures);
    expect(result).toMatchObject({
      total: 3,
      byState: { Active: 2, Disconnected: 1 },
      byDeliveryGroup: { 'Published Apps': 2, 'Win11 Desktops': 1 },
      byProtocol: { HDX: 3 },
      busiestMachines: [
        { machine: 'ACME\\RDSH-APP-03', sessions: 2 },
        { machine: 'ACME\\VDA-W11-001', sessions: 1 },
      ],
      longDisconnected: [{ machine: 'ACME\\RDSH-APP-03', since: '2026-11-19T17:30:00Z', user: null }],
    });
    expect(JSON.stringify(result)).not.toMatch(/bsmith|jdoe|Jane Doe/);
    const named = await runProbeWithFixtures<{ longDisconnected: Array<{ user: string }> }>(
      pack,
      'sessions.summary',
      { includeUsers: true },
      fixtures,
    );
    expect(named.result.longDisconnected[0].user).toBe('ACME\\bsmith');
  });

  it('sites.list', async () => {
    expect((await runProbeWithFixtures(pack, 'sites.list', {}, fixtures)).result).toEqual({
      customers: [{ id: 'acme1a2b3c4d', name: 'Acme Corp', sites: [{ id: '7c4a1e2b-9f3d-4b8a-a6e5-0d1c2b3a4f5e', name: 'cloudxdsite' }] }],
    });
  });

  it('a configured bearer token skips the token request', async () => {
    const { calls } = await runProbeWithFixtures(
      pack,
      'sites.list',
      {},
      { ...fixtures, credentials: { customerId: CREDS.customerId, bearerToken: 'ready-made-token' } },
    );
    expect(calls.http.map((c) => c.method)).toEqual(['GET']);
  });

  it('missing or malformed credentials are refused before any request', async () => {
    for (const credentials of [
      {},
      { customerId: CREDS.customerId },
      { ...CREDS, customerId: 'acme/../x' },
      { ...CREDS, siteId: 'not-a-guid' },
    ] as Array<Record<string, string>>) {
      const run = await runProbeWithFixtures(pack, 'machines.unregistered', {}, { ...fixtures, credentials }).catch((e: unknown) => e);
      expect(run, JSON.stringify(credentials)).toMatchObject({ code: 'SONDE_ERR_PROBE_FAILED' });
    }
  });

  it('an expired token is a 401 with the product message and without the secret', async () => {
    const error = await runProbeWithFixtures(
      pack,
      'sites.list',
      {},
      {
        ...fixtures,
        http: [common[0], { url: `${E}/cvad/manage/me`, status: 401, body: recorded('error-401.json') }],
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/401: authentication failed.*Unauthorized/),
    });
    expect(JSON.stringify(error)).not.toContain(CREDS.clientSecret);
  });

  it('runbook findings', async () => {
    const machines = await runProbeWithFixtures(pack, 'machines.unregistered', { includeMaintenance: false }, fixtures);
    expect(evaluateMachines(machines.result as Parameters<typeof evaluateMachines>[0])).toMatchObject({ severity: 'critical' });
    const groups = await runProbeWithFixtures(pack, 'delivery_groups.list', {}, fixtures);
    expect(evaluateGroups(groups.result as Parameters<typeof evaluateGroups>[0])).toMatchObject({
      severity: 'critical',
      summary: 'no registered machine in delivery group(s): Published Apps',
    });
  });
});
