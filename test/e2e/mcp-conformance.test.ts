import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../hub/test/helpers.js';
import { conformanceBin, modernNode } from './support/tools.js';

/**
 * The MCP conformance suite (`@modelcontextprotocol/conformance` 0.1.16, server mode, active suite) against a hub with
 * no agents, as part of the test suite. The scenarios Sonde fails by design are listed, with the reason, in
 * `fixtures/mcp-conformance-expected-failures.yaml`; the runner's baseline check then fails this test when a scenario
 * outside that list fails (a regression) and when a listed one starts passing (the list must shrink with it).
 * The runner has no option for credentials, so it talks to a loopback proxy that adds an admin key and forwards
 * everything else unchanged (the DNS-rebinding scenario's foreign Host and Origin reach the hub as sent).
 */
const BASELINE = path.join(import.meta.dirname, 'fixtures/mcp-conformance-expected-failures.yaml');
/** The scenarios that pass today: each is a regression if it fails. */
const PASSING = [
  'server-initialize',
  'ping',
  'tools-list',
  'tools-call-simple-text',
  'tools-call-error',
  'server-sse-multiple-streams',
  'dns-rebinding-protection',
];

let hub: TestHub;
let proxy: Server;
let proxyUrl: string;
const out = mkdtempSync(path.join(tmpdir(), 'sonde-conformance-'));

beforeAll(async () => {
  hub = await startTestHub();
  const hubUrl = new URL(await hub.app.listen({ host: '127.0.0.1', port: 0 }));
  proxy = createServer((incoming, outgoing) => {
    const forward = httpRequest(
      {
        host: hubUrl.hostname,
        port: hubUrl.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, authorization: `Bearer ${hub.adminKey}` },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
  // Installed once into node_modules/.cache (.ci/run warms it beside the build).
  conformanceBin();
}, 300_000);

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await hub?.close();
  rmSync(out, { recursive: true, force: true });
});

interface Check {
  name: string;
  status: string;
}

/** Every scenario's checks, from the runner's output folder (`<scenario>-<timestamp>/checks.json`). */
function checksByScenario(): Map<string, Check[]> {
  const result = new Map<string, Check[]>();
  for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
    if (entry.name !== 'checks.json') continue;
    const folder = path.basename(entry.parentPath);
    const scenario = folder.replace(/^server-(?=.*-\d{4}-\d{2}-\d{2}T)/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
    result.set(scenario, JSON.parse(readFileSync(path.join(entry.parentPath, entry.name), 'utf8')) as Check[]);
  }
  return result;
}

describe('MCP conformance suite (server mode)', () => {
  it('passes every scenario outside the explained baseline, and the baseline holds no scenario that now passes', async () => {
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        modernNode(),
        [conformanceBin(), 'server', '--url', proxyUrl, '--expected-failures', BASELINE, '-o', out],
        { timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    const summary = run.output.slice(run.output.lastIndexOf('=== SUMMARY ==='));
    expect(run.code, `conformance runner exited ${run.code}:\n${summary}`).toBe(0);

    const checks = checksByScenario();
    for (const scenario of PASSING) {
      const list = checks.get(scenario);
      expect(list, `scenario ${scenario} did not run`).toBeDefined();
      expect(
        list!.filter((c) => c.status !== 'SUCCESS' && c.status !== 'INFO'),
        `${scenario}: ${JSON.stringify(list)}`,
      ).toEqual([]);
    }
    // Every listed scenario is a real one that ran and failed (a misspelt name would excuse nothing and hide nothing).
    // (The file is one `server:` list of names; the runner itself reads it as YAML.)
    const baseline = [...readFileSync(BASELINE, 'utf8').matchAll(/^\s+-\s+([a-z0-9-]+)\s*$/gm)].map((m) => m[1]);
    expect(baseline.length).toBeGreaterThan(0);
    for (const scenario of baseline) {
      const list = checks.get(scenario);
      expect(list, `baseline scenario ${scenario} did not run`).toBeDefined();
      expect(
        list!.some((c) => c.status === 'FAILURE' || c.status === 'WARNING'),
        scenario,
      ).toBe(true);
    }
    // Nothing ran that is neither known to pass nor explained.
    expect([...checks.keys()].filter((s) => !PASSING.includes(s) && !baseline.includes(s))).toEqual([]);
    const passedChecks = [...checks.values()].flat().filter((c) => c.status === 'SUCCESS').length;
    expect(passedChecks).toBeGreaterThanOrEqual(8);
  }, 300_000);
});
