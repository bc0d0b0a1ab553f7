import fc from 'fast-check';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../hub/test/helpers.js';

/**
 * Generated requests on every REST route of the OpenAPI document and on /mcp, over a real socket: random methods,
 * path parameters, query strings, malformed and oversized bodies, odd content types, huge headers, with and without
 * an admin key. None may get a 5xx (an unhandled error) and /api/v1/health must answer throughout.
 * CI: SONDE_FUZZ_REQUESTS (default 1,000) from SONDE_FUZZ_SEED (printed); scripts/soak.mjs runs 10,000 and more.
 */
const SEED = Number(process.env.SONDE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REQUESTS = Number(process.env.SONDE_FUZZ_REQUESTS ?? 1_000);
const TIMEOUT_MS = Number(process.env.SONDE_FUZZ_TIMEOUT_MS ?? 180_000);

describe(`hostile REST and /mcp requests (seed ${SEED}, ${REQUESTS} requests)`, () => {
  let hub: TestHub;
  let base: string;
  let paths: string[];
  beforeAll(async () => {
    hub = await startTestHub();
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    paths = [...Object.keys(doc.paths), '/mcp', '/mcp/packs/system', '/metrics', '/api/v1/ready'];
  });
  afterAll(async () => hub?.close());

  it(
    'no request gets a 5xx, and /api/v1/health answers throughout',
    async () => {
      console.log(`hostile requests: seed ${SEED} (replay with SONDE_FUZZ_SEED=${SEED})`);
      const segment = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('..', '%2e%2e', '%00', 'web-1', '00000000-0000-0000-0000-000000000000', 'a'.repeat(5000)),
      );
      const body = fc.oneof(
        fc.json({ maxDepth: 5 }),
        fc.string({ maxLength: 500 }),
        fc.constantFrom('{', '[1,', '{"name":', '\u0000', '{"__proto__":{"admin":true}}', '['.repeat(10_000)),
        fc.integer({ min: 1, max: 400_000 }).map((n) => JSON.stringify({ name: 'x'.repeat(n) })),
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: v })),
        fc.constantFrom(
          JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'probe', arguments: { agent: 'x', probe: 'system.disk.usage' } },
          }),
        ),
      );
      const requestArb = fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
        path: fc.constantFrom(...paths),
        params: fc.array(segment, { minLength: 3, maxLength: 3 }),
        query: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 50 }), { maxKeys: 4 })),
        body: fc.option(body),
        contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', ''),
        auth: fc.constantFrom('admin', 'member', 'none', 'garbage'),
        bigHeader: fc.oneof({ arbitrary: fc.constant(null), weight: 9 }, { arbitrary: fc.integer({ min: 1, max: 40_000 }), weight: 1 }),
      });
      const requests = fc.sample(requestArb, { seed: SEED, numRuns: REQUESTS });

      // /health polled beside the fuzz: every answer must be a 200.
      let healthMax = 0;
      let healthFailures = 0;
      const healthStatuses: string[] = [];
      let stop = false;
      const poll = (async () => {
        while (!stop) {
          const started = performance.now();
          // A connection of its own each time: the fuzz's refused requests close pooled sockets under the client.
          const status = await new Promise<number | string>((resolve) => {
            get(`${base}/api/v1/health`, { agent: false }, (response) => {
              response.resume();
              resolve(response.statusCode ?? 0);
            }).on('error', (error) => resolve(error.message));
          });
          healthMax = Math.max(healthMax, performance.now() - started);
          if (status !== 200) {
            healthFailures += 1;
            healthStatuses.push(String(status));
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();

      const failures: string[] = [];
      const statuses = new Map<number, number>();
      for (const r of requests) {
        let i = 0;
        const url = new URL(base + r.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(r.params[i++ % 3])));
        for (const [k, v] of Object.entries(r.query ?? {})) url.searchParams.append(k, v);
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.auth === 'admin') headers.authorization = `Bearer ${hub.adminKey}`;
        if (r.auth === 'member') headers.authorization = `Bearer ${hub.memberKey}`;
        if (r.auth === 'garbage') headers.authorization = `Bearer ${'x'.repeat(300)}`;
        if (r.bigHeader) headers['x-fuzz'] = 'y'.repeat(r.bigHeader);
        const withBody = r.body !== null && r.method !== 'GET' && r.method !== 'HEAD';
        // A request the hub never answers is a finding, not a test that hangs until its own timeout.
        const signal = AbortSignal.timeout(15_000);
        const status = await fetch(url, { method: r.method, headers, body: withBody ? r.body! : undefined, signal }).then(
          async (response) => {
            // The event stream is meant to stay open: its headers are the answer.
            if (response.headers.get('content-type')?.startsWith('text/event-stream')) await response.body?.cancel();
            else await response.arrayBuffer();
            return response.status;
          },
          (error: Error) => (error.name === 'TimeoutError' ? 0 : -1),
        );
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 0) failures.push(`${r.method} ${url.pathname} → no answer within 15 s`);
        if (status >= 500 && !(status === 503 && r.path === '/api/v1/ready')) failures.push(`${r.method} ${url.pathname} → ${status}`);
      }
      stop = true;
      await poll;
      console.log(
        `hostile requests: ${REQUESTS} sent; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; ` +
          `/health slowest ${healthMax.toFixed(0)} ms, ${healthFailures} failed ${JSON.stringify(healthStatuses.slice(0, 10))}`,
      );
      expect(failures, `seed ${SEED}`).toEqual([]);
      expect(healthFailures, `seed ${SEED}`).toBe(0);
    },
    TIMEOUT_MS,
  );
});
