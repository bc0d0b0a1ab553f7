import { probeNames, runProbeWithFixtures, type Fixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { evaluateChanges, evaluateIncidents } from '../src/runbooks/itsm.js';
import { recorded } from './recorded.js';
import { FIELDS, tableUrl } from './table-url.js';

const E = 'https://dev12345.service-now.com';
const CHANGES_72 = 'active=true^start_date<=javascript:gs.hoursAgo(-72)^end_date>=javascript:gs.nowDateTime()^ORDERBYstart_date';
const fixtures: Fixtures = {
  endpoint: E,
  credentials: { username: 'sonde.reader', password: 'Sup3r-secret!' },
  http: [
    {
      url: tableUrl(E, 'incident', 'active=true^ORDERBYpriority^ORDERBYDESCsys_updated_on', FIELDS.incident, 25),
      body: recorded('incidents-open.json'),
      headers: { 'x-total-count': '3' },
    },
    {
      url: tableUrl(E, 'incident', 'active=true^priority<=2^state=2^ORDERBYDESCopened_at', FIELDS.incident, 5),
      body: recorded('empty.json'),
      headers: { 'x-total-count': '0' },
    },
    { url: tableUrl(E, 'incident', 'number=INC0010001', FIELDS.detail, 1), body: recorded('incident-INC0010001.json') },
    { url: tableUrl(E, 'incident', 'number=INC0099999', FIELDS.detail, 1), body: recorded('empty.json') },
    {
      url: tableUrl(E, 'change_request', CHANGES_72, FIELDS.change, 25),
      body: recorded('changes-upcoming.json'),
      headers: { 'x-total-count': '2' },
    },
    {
      url: tableUrl(E, 'change_request', CHANGES_72.replace('^ORDERBY', '^type=emergency^ORDERBY'), FIELDS.change, 25),
      body: recorded('empty.json'),
    },
    {
      url: tableUrl(E, 'cmdb_ci', 'name=lnux100', FIELDS.ci, 5),
      body: recorded('cmdb-ci-lnux100.json'),
      headers: { 'x-total-count': '1' },
    },
    { url: tableUrl(E, 'cmdb_ci_linux_server', 'name=web 01 & db/02', FIELDS.ci, 5), body: recorded('empty.json') },
  ],
};

describe('servicenow pack manifest', () => {
  it('four read-only open-world probes on Table API paths only', () => {
    expect(probeNames(pack)).toEqual([
      'servicenow.incidents.open',
      'servicenow.incident.get',
      'servicenow.changes.upcoming',
      'servicenow.cmdb.ci.lookup',
    ]);
    expect(pack.manifest.kind).toBe('integration');
    expect(pack.manifest.probes.every((p) => p.openWorld && p.capability === 'observe')).toBe(true);
    expect(pack.manifest.permissions.network.flatMap((n) => n.paths ?? []).every((p) => p.startsWith('/api/now/table/'))).toBe(true);
  });
});

describe('servicenow probes on documented answers', () => {
  it('incidents.open: typed incidents with priority levels and the total', async () => {
    const { result } = await runProbeWithFixtures(pack, 'incidents.open', {}, fixtures);
    expect(result).toMatchObject({
      total: 3,
      byPriority: { '1 - Critical': 1, '2 - High': 1, '3 - Moderate': 1 },
      incidents: [
        { number: 'INC0000003', priorityLevel: 1, state: 'In Progress', assignedTo: 'Beth Anglin', configurationItem: null },
        { number: 'INC0009005', priorityLevel: 2, assignedTo: null, configurationItem: 'EXCH-SD-05' },
        { number: 'INC0010001', priorityLevel: 3 },
      ],
    });
  });

  it('incidents.open: the encoded query comes only from enums and integers', async () => {
    const { result, calls } = await runProbeWithFixtures(
      pack,
      'incidents.open',
      { maxPriority: 2, state: 'in_progress', sort: 'opened', limit: 5 },
      fixtures,
    );
    expect(result).toEqual({ total: 0, incidents: [], byPriority: {} });
    expect(new URL(calls.http[0].url).searchParams.get('sysparm_query')).toBe('active=true^priority<=2^state=2^ORDERBYDESCopened_at');
  });

  it('incident.get: found and not found', async () => {
    const { result } = await runProbeWithFixtures(pack, 'incident.get', { number: 'INC0010001' }, fixtures);
    expect(result).toMatchObject({
      found: true,
      incident: {
        number: 'INC0010001',
        caller: 'Abel Tuter',
        contactType: 'Monitoring',
        reopenCount: 0,
        resolvedAt: null,
        description: expect.stringContaining('/var'),
      },
    });
    expect((await runProbeWithFixtures(pack, 'incident.get', { number: 'INC0099999' }, fixtures)).result).toEqual({
      found: false,
      incident: null,
    });
  });

  it('changes.upcoming: window overlap query, emergency changes counted', async () => {
    const { result } = await runProbeWithFixtures(pack, 'changes.upcoming', {}, fixtures);
    expect(result).toMatchObject({
      hours: 72,
      total: 2,
      emergency: 1,
      changes: [
        { number: 'CHG0000024', type: 'Normal', state: 'Scheduled', start: '2026-11-24 22:00:00' },
        { number: 'CHG0030002', type: 'Emergency', risk: 'High' },
      ],
    });
    const emergency = await runProbeWithFixtures(pack, 'changes.upcoming', { type: 'emergency' }, fixtures);
    expect(emergency.result).toMatchObject({ total: 0, changes: [] });
  });

  it('cmdb.ci.lookup: exact name, value URL-encoded, one class', async () => {
    const { result } = await runProbeWithFixtures(pack, 'cmdb.ci.lookup', { name: 'lnux100' }, fixtures);
    expect(result).toMatchObject({
      total: 1,
      items: [{ name: 'lnux100', class: 'Linux Server', ipAddress: '10.0.0.100', environment: 'Production' }],
    });
    const { calls } = await runProbeWithFixtures(
      pack,
      'cmdb.ci.lookup',
      { name: 'web 01 & db/02', class: 'cmdb_ci_linux_server' },
      fixtures,
    );
    const url = new URL(calls.http[0].url);
    expect(url.pathname).toBe('/api/now/table/cmdb_ci_linux_server');
    expect(url.searchParams.get('sysparm_query')).toBe('name=web 01 & db/02');
    expect(url.searchParams.getAll('sysparm_limit')).toEqual(['5']);
  });

  it('uses a bearer token when one is configured, else basic auth; nothing configured is a clear error', async () => {
    await expect(
      runProbeWithFixtures(pack, 'incident.get', { number: 'INC0010001' }, { ...fixtures, credentials: {} }),
    ).rejects.toMatchObject({
      code: 'SONDE_ERR_PROBE_FAILED',
      message: expect.stringMatching(/configure ServiceNow credentials/),
    });
    await expect(
      runProbeWithFixtures(
        pack,
        'incident.get',
        { number: 'INC0010001' },
        { ...fixtures, credentials: { username: 'a:b', password: 'x' } },
      ),
    ).rejects.toMatchObject({ message: expect.stringMatching(/may not contain ":"/) });
  });

  it("a 401 carries ServiceNow's message, never the password", async () => {
    const error = await runProbeWithFixtures(
      pack,
      'incident.get',
      { number: 'INC0010001' },
      {
        ...fixtures,
        http: [{ url: tableUrl(E, 'incident', 'number=INC0010001', FIELDS.detail, 1), status: 401, body: recorded('error-401.json') }],
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/401: authentication failed.*User Not Authenticated/),
    });
    expect(JSON.stringify(error)).not.toContain('Sup3r-secret!');
  });

  it('runbook findings', () => {
    expect(
      evaluateIncidents({ total: 1, incidents: [{ number: 'INC0000003', priorityLevel: 1, shortDescription: 'Wireless down' }] }),
    ).toMatchObject({
      severity: 'critical',
      summary: '1 open P1 incident(s): INC0000003 Wireless down',
    });
    expect(evaluateIncidents({ total: 0, incidents: [] }).severity).toBe('ok');
    expect(
      evaluateChanges({
        hours: 24,
        total: 2,
        emergency: 1,
        changes: [{ number: 'CHG0030002', type: 'Emergency', start: null, shortDescription: 'fw' }],
      }).severity,
    ).toBe('warning');
  });
});

describe('servicenow runbook through the harness', () => {
  it('flags the open P1 incident', async () => {
    const runbook = pack.runbooks[0];
    const extra = [
      {
        url: tableUrl(E, 'incident', 'active=true^priority<=2^ORDERBYpriority^ORDERBYDESCsys_updated_on', FIELDS.incident, 10),
        body: recorded('incidents-open.json'),
        headers: { 'x-total-count': '2' },
      },
      {
        url: tableUrl(E, 'change_request', CHANGES_72.replace('-72', '-24'), FIELDS.change, 10),
        body: recorded('changes-upcoming.json'),
      },
    ];
    const results: Record<string, unknown> = {};
    for (const step of runbook.steps) {
      results[step.probe] = (await runProbeWithFixtures(pack, step.probe, step.params ?? {}, { ...fixtures, http: extra })).result;
    }
    const findings = runbook.evaluate(results);
    expect(findings.map((f) => f.severity)).toEqual(['critical', 'warning']);
    expect(findings[0].summary).toMatch(/INC0000003 Wireless access is down/);
  });
});
