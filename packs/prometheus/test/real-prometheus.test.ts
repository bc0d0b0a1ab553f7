import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { hostContext, runOnHost } from '@sonde/pack-sdk/testing';

/**
 * The pack against a real Prometheus (Debian package `prometheus`) on
 * loopback, scraping itself and one target that refuses connections, with a
 * rule file whose alert fires on that target. CI installs the package; a
 * missing binary fails here rather than skipping.
 */

const BINARY = '/usr/bin/prometheus';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms: number, log: () => string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`Prometheus exited before ${what.replace(/^no /, '')}. Its log:\n${log().slice(-2000)}`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Prometheus: ${what} within ${ms} ms. Its log:\n${log().slice(-2000)}`);
}

describe('prometheus pack against a real Prometheus on loopback', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let endpoint: string;
  let log = '';

  beforeAll(async () => {
    if (!existsSync(BINARY)) {
      throw new Error(`${BINARY} is missing: install the Debian package with \`apt-get install -y prometheus\` (CI: .ci/services.sh)`);
    }
    dir = mkdtempSync(path.join(tmpdir(), 'sonde-prometheus-'));
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [rules.yml]',
        'scrape_configs:',
        `  - { job_name: prometheus, static_configs: [{ targets: ['127.0.0.1:${port}'] }] }`,
        "  - { job_name: node, static_configs: [{ targets: ['127.0.0.1:1'] }] }",
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'rules.yml'),
      [
        'groups:',
        '  - name: sonde-test',
        '    rules:',
        '      - alert: TargetDown',
        '        expr: up == 0',
        '        labels: { severity: critical }',
        "        annotations: { summary: 'Target {{ $labels.instance }} is down' }",
        '      - record: job:up:sum',
        '        expr: sum by (job) (up)',
        '',
      ].join('\n'),
    );
    child = spawn(
      BINARY,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    let exited = false;
    child.on('exit', () => (exited = true));
    await waitFor(
      'no answer to /api/v1/query?query=up with both targets',
      async () => {
        const body = (await (await fetch(`${endpoint}/api/v1/query?query=up`)).json()) as { data?: { result?: unknown[] } };
        return (body.data?.result?.length ?? 0) === 2;
      },
      15_000,
      () => log,
      () => exited,
    );
    await waitFor(
      'TargetDown did not fire',
      async () => (await (await fetch(`${endpoint}/api/v1/alerts`)).text()).includes('"firing"'),
      15_000,
      () => log,
      () => exited,
    );
  });

  afterAll(() => {
    child?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('targets: the server is up and the refusing target is down with its error', async () => {
    const result = await runOnHost(pack, 'targets', {}, endpoint, {});
    expect(result).toMatchObject({
      totals: { up: 1, down: 1 },
      jobs: [
        { job: 'node', up: 0, down: 1 },
        { job: 'prometheus', up: 1, down: 0 },
      ],
    });
  });

  it('alerts and rules: TargetDown fires, every rule evaluates', async () => {
    expect(await runOnHost(pack, 'alerts', { state: 'firing' }, endpoint, {})).toMatchObject({
      firing: 1,
      bySeverity: { critical: 1 },
      alerts: [{ name: 'TargetDown', severity: 'critical', summary: 'Target 127.0.0.1:1 is down' }],
    });
    expect(await runOnHost(pack, 'rules', {}, endpoint, {})).toMatchObject({
      totals: { groups: 1, alerting: 1, recording: 1, unhealthy: 0 },
      active: [{ name: 'TargetDown', state: 'firing' }],
    });
  });

  it('query: vector, matrix, scalar and a rejected expression', async () => {
    expect(await runOnHost(pack, 'query', { query: 'sum by (job) (up)' }, endpoint, {})).toMatchObject({
      resultType: 'vector',
      seriesCount: 2,
    });
    expect(await runOnHost(pack, 'query', { query: 'up{job="prometheus"}[10s]' }, endpoint, {})).toMatchObject({ resultType: 'matrix' });
    expect(await runOnHost(pack, 'query', { query: '1/0' }, endpoint, {})).toMatchObject({
      resultType: 'scalar',
      scalar: { value: null, valueText: '+Inf' },
    });
    // A label value full of URL syntax stays one query parameter: Prometheus parses it as a label value.
    expect(await runOnHost(pack, 'query', { query: 'up{job="a&query=x#y?z"}' }, endpoint, {})).toMatchObject({
      resultType: 'vector',
      seriesCount: 0,
    });
    await expect(runOnHost(pack, 'query', { query: 'sum(' }, endpoint, {})).rejects.toMatchObject({
      code: 'SONDE_ERR_INVALID_PARAMS',
      message: expect.stringMatching(/bad_data/),
    });
  });

  it('buildinfo and tsdb.status', async () => {
    expect(await runOnHost(pack, 'buildinfo', {}, endpoint, {})).toMatchObject({ version: expect.stringMatching(/^2\./) });
    const tsdb = await runOnHost<{ head: { numSeries: number } }>(pack, 'tsdb.status', {}, endpoint, {});
    expect(tsdb.head.numSeries).toBeGreaterThan(10);
  });

  it('the admin API exists on the server but the pack cannot reach it', async () => {
    const ctx = hostContext(pack, endpoint);
    await expect(ctx.http(`${endpoint}/api/v1/admin/tsdb/snapshot`, { method: 'POST' })).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
  });

  it('the runbook flags the dead job and the critical alert', async () => {
    const results: Record<string, unknown> = {};
    for (const step of pack.runbooks[0].steps) results[step.probe] = await runOnHost(pack, step.probe, step.params ?? {}, endpoint, {});
    const findings = pack.runbooks[0].evaluate(results);
    expect(findings.map((f) => f.severity)).toEqual(['critical', 'critical', 'ok']);
    expect(findings[0].summary).toMatch(/job\(s\) node/);
  });
});
