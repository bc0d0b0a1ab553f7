import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, get, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURES_BEFORE_THROTTLE } from '../../hub/src/auth/refusals.js';
import { startTestHub, type TestHub } from '../../hub/test/helpers.js';
import { reportToSoak, soakClock } from './soak-report.js';

/**
 * Generated requests on every REST route of the OpenAPI document and on /mcp, over a real socket: random methods,
 * path parameters, query strings, malformed and oversized bodies, odd content types, huge headers, with and without
 * an admin key. Each must get a clear answer (no 5xx, no silence), the hub must stay up with its memory bounded
 * (live heap after a full GC, before and after), no generated request may make an agent run a probe, every audit
 * entry the requests caused must be in the chain and reach the audit export (a real webhook receiver), and
 * /api/v1/health must answer within 100 ms throughout.
 *
 * Each batch of requests comes from a loopback source address of its own (127.0.0.0/8): the per-source throttle
 * (429 after FAILURES_BEFORE_THROTTLE refused credentials, hub/test/security/refusals.test.ts) would otherwise
 * answer most of the run, and the routes would never see the input they are here to be tested with.
 *
 * CI: SONDE_FUZZ_REQUESTS (default 1,000) from SONDE_FUZZ_SEED (printed); scripts/soak.mjs runs 10,000 and more.
 */
const SEED = Number(process.env.SONDE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REQUESTS = Number(process.env.SONDE_FUZZ_REQUESTS ?? 1_000);
const TIMEOUT_MS = Number(process.env.SONDE_FUZZ_TIMEOUT_MS ?? 180_000);
/**
 * The /health bound of issue 25: 100 ms on a machine with a core free. On one whose load average is above its core
 * count (a shared CI runner, eight engineers on two cores) no process gets 100 ms, so the bound grows by that factor
 * and the test says so; SONDE_FUZZ_HEALTH_MS sets it outright. Polls over 100 ms are counted and printed either way.
 */
const LOAD_FACTOR = Math.max(1, os.loadavg()[0] / os.availableParallelism());
const HEALTH_MS = Number(process.env.SONDE_FUZZ_HEALTH_MS ?? Math.round(100 * LOAD_FACTOR));
/** Requests per source address: fewer than a third of what throttles a source, so no batch can reach the throttle. */
const PER_SOURCE = Math.floor(FAILURES_BEFORE_THROTTLE / 3);
/** Generated and sent in chunks (seeded per chunk, so a seed replays the same requests), so the test never holds 10,000 bodies of up to 400 kB. */
const CHUNK = 100;
const WEBHOOK_SECRET = 'hostile-webhook-secret-0123456789abcdef';
const MiB = 1024 * 1024;

/** 127.a.b.c for batch n, never 127.0.0.1 (the /health poller's address) and never a .0 or .255 host part. */
function sourceAddress(batch: number): string {
  const c = 1 + (batch % 254);
  const rest = Math.floor(batch / 254);
  return `127.${1 + Math.floor(rest / 256)}.${rest % 256}.${c}`;
}

/** Live memory after a full collection: heap plus buffers (RSS keeps freed pages mapped, so it bounds nothing). */
function liveBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** A signed-webhook receiver as a SIEM would run one: it checks each delivery's signature and keeps the seqs. */
async function startWebhookReceiver(): Promise<{ url: string; seqs: Set<number>; forged: number; server: Server }> {
  const receiver = { url: '', seqs: new Set<number>(), forged: 0, server: undefined as unknown as Server };
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const expected = `v1=${createHmac('sha256', WEBHOOK_SECRET)
        .update(`${String(req.headers['x-sonde-timestamp'])}.${body}`)
        .digest('hex')}`;
      if (req.headers['x-sonde-signature'] !== expected) {
        receiver.forged += 1;
        res.writeHead(401).end();
        return;
      }
      for (const entry of (JSON.parse(body) as { entries: { seq: number }[] }).entries) receiver.seqs.add(entry.seq);
      res.writeHead(204).end();
    });
  });
  receiver.server.listen(0, '127.0.0.1');
  await once(receiver.server, 'listening');
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/audit`;
  return receiver;
}

interface Sent {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
  from: string;
}

/** What became of one request. */
interface Outcome {
  /** The status line's code; 0 when the hub gave no answer within 15 s, -1 when the connection ended without one. */
  status: number;
  /** For -1: the socket error, and whether the whole request had been handed to the kernel before it. */
  closed?: { code: string; requestSent: boolean };
  /** The connection failed after the status line arrived (the hub answered early and closed while the request was still being written). */
  resetAfterAnswer?: string;
}

/**
 * One request from a chosen source address on a connection of its own. A status line counts as the answer even when
 * the connection is reset afterwards (the hub may answer 413 or 401 before reading a large body, then close while the
 * rest is still being written: the write fails with EPIPE or ECONNRESET after the answer arrived). No answer within
 * 15 s is a finding (status 0), not a hang until the test's own timeout.
 */
function send({ method, url, headers, body, from }: Sent): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    let answered: number | undefined;
    let requestSent = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = request(url, { method, headers, localAddress: from, agent: false }, (response) => {
      const status = response.statusCode ?? -1;
      answered = status;
      // The event stream is meant to stay open: its headers are the answer.
      if (String(response.headers['content-type']).startsWith('text/event-stream')) {
        response.destroy();
        finish({ status });
        return;
      }
      response.resume();
      response.on('end', () => finish({ status }));
      response.on('error', () => finish({ status }));
      response.on('close', () => finish({ status }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: 0 });
    }, 15_000);
    req.on('finish', () => (requestSent = true));
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish(
        answered !== undefined
          ? { status: answered, resetAfterAnswer: error.code ?? error.message }
          : { status: -1, closed: { code: error.code ?? error.message, requestSent } },
      ),
    );
    if (body !== undefined) req.setHeader('content-length', Buffer.byteLength(body));
    req.end(body);
  });
}

describe(`hostile REST and /mcp requests (seed ${SEED}, ${REQUESTS} requests)`, () => {
  let hub: TestHub;
  let base: string;
  let paths: string[];
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    hub = await startTestHub({ SONDE_AUDIT_WEBHOOK_URL: receiver.url, SONDE_AUDIT_WEBHOOK_SECRET: WEBHOOK_SECRET });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    paths = [...Object.keys(doc.paths), '/mcp', '/mcp/packs/system', '/metrics', '/api/v1/ready'];
  });
  afterAll(async () => {
    await hub?.close();
    receiver?.server.closeAllConnections();
    receiver?.server.close();
  });

  it(
    'every request gets a clear answer, few from the throttle; the hub stays up and bounded, runs no probe, loses no audit entry',
    async () => {
      console.log(
        `hostile requests: seed ${SEED} (replay with SONDE_FUZZ_SEED=${SEED}); /health bound ${HEALTH_MS} ms` +
          (LOAD_FACTOR > 1 ? ` (load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores)` : ''),
      );
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
        // What an MCP client sends, so /mcp judges the body and not only the Accept header.
        accept: fc.constantFrom('*/*', 'application/json, text/event-stream', ''),
        auth: fc.constantFrom('admin', 'member', 'none', 'garbage'),
        bigHeader: fc.oneof({ arbitrary: fc.constant(null), weight: 9 }, { arbitrary: fc.integer({ min: 1, max: 40_000 }), weight: 1 }),
      });

      const liveBefore = liveBytes();
      // The hub runs in this process: while the test itself blocks the event loop (generating a chunk of requests, some
      // of them 400 kB), a /health poll in flight measures the test, not the hub, and is not counted.
      let testBusy = 0;
      // /health polled beside the fuzz, from 127.0.0.1 on a connection of its own each time: every answer a 200 within HEALTH_MS.
      let healthMax = 0;
      let healthPolls = 0;
      /** Polls slower than issue 25's 100 ms, counted even when SONDE_FUZZ_HEALTH_MS allows more (a loaded machine). */
      let healthOver100 = 0;
      const healthFailures: string[] = [];
      let stop = false;
      const poll = (async () => {
        while (!stop) {
          const busyBefore = testBusy;
          const started = performance.now();
          const status = await new Promise<number | string>((resolve) => {
            get(`${base}/api/v1/health`, { agent: false }, (response) => {
              response.resume();
              resolve(response.statusCode ?? 0);
            }).on('error', (error) => resolve(error.message));
          });
          const ms = performance.now() - started;
          if (testBusy !== busyBefore) continue;
          healthPolls += 1;
          healthMax = Math.max(healthMax, ms);
          if (ms > 100) healthOver100 += 1;
          if (status !== 200 || ms > HEALTH_MS) healthFailures.push(`${String(status)} after ${ms.toFixed(0)} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();

      const failures: string[] = [];
      const statuses = new Map<number, number>();
      /** Connections that ended without a status line, by when (while or after sending the request) and the error. */
      const closedByKind = new Map<string, { count: number; examples: string[] }>();
      /** Answers (by status) whose connection then failed while the request was still being written. */
      const resetsAfterAnswer = new Map<number, number>();
      let sent = 0;
      const stopSending = soakClock();
      for (let chunk = 0; sent < REQUESTS && !stopSending(); chunk++) {
        testBusy += 1;
        const requests = fc.sample(requestArb, { seed: SEED + chunk, numRuns: Math.min(CHUNK, REQUESTS - sent) });
        testBusy += 1;
        for (const r of requests) {
          let i = 0;
          const url = new URL(base + r.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(r.params[i++ % 3])));
          for (const [k, v] of Object.entries(r.query ?? {})) url.searchParams.append(k, v);
          const headers: Record<string, string> = {};
          if (r.contentType) headers['content-type'] = r.contentType;
          if (r.accept) headers.accept = r.accept;
          if (r.auth === 'admin') headers.authorization = `Bearer ${hub.adminKey}`;
          if (r.auth === 'member') headers.authorization = `Bearer ${hub.memberKey}`;
          if (r.auth === 'garbage') headers.authorization = `Bearer ${'x'.repeat(300)}`;
          if (r.bigHeader) headers['x-fuzz'] = 'y'.repeat(r.bigHeader);
          const withBody = r.body !== null && r.method !== 'GET' && r.method !== 'HEAD';
          const { status, closed, resetAfterAnswer } = await send({
            method: r.method,
            url,
            headers,
            body: withBody ? r.body! : undefined,
            from: sourceAddress(Math.floor(sent / PER_SOURCE)),
          });
          sent += 1;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (resetAfterAnswer) resetsAfterAnswer.set(status, (resetsAfterAnswer.get(status) ?? 0) + 1);
          if (closed) {
            const bodyBytes = withBody ? Buffer.byteLength(r.body!) : 0;
            const headerBytes = Object.entries(headers).reduce((sum, [k, v]) => sum + k.length + v.length + 4, 0) + url.href.length;
            const kind = `${closed.requestSent ? 'after' : 'while'} sending, ${closed.code}`;
            const entry = closedByKind.get(kind) ?? { count: 0, examples: [] };
            entry.count += 1;
            if (entry.examples.length < 5)
              entry.examples.push(`${r.method} ${url.pathname.slice(0, 40)} body ${bodyBytes} B headers ${headerBytes} B`);
            closedByKind.set(kind, entry);
          }
          if (status === 0) failures.push(`${r.method} ${url.pathname} → no answer within 15 s`);
          if (status >= 500 && !(status === 503 && r.path === '/api/v1/ready')) failures.push(`${r.method} ${url.pathname} → ${status}`);
        }
      }
      stop = true;
      await poll;

      // Every audit entry the run caused, committed, in an intact chain, and delivered to the export.
      const { audit, store } = hub.app.core;
      const exporter = hub.app.auditExport!;
      const deadline = Date.now() + 60_000;
      let last = 0;
      while (Date.now() < deadline) {
        last = (await store.audit.last())?.seq ?? 0;
        const [webhook] = exporter.status();
        if (audit.queueDepth() === 0 && webhook.cursor >= last && receiver.seqs.size >= last) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      let lost = 0;
      for (let seq = 1; seq <= last; seq++) if (!receiver.seqs.has(seq)) lost += 1;
      const verified = await audit.verify({ full: true });
      if (!verified.ok) lost += Math.max(1, last - (verified.firstBrokenSeq ?? last) + 1);

      // No generated request made an agent run a probe (the hub counts every dispatch by outcome).
      const calls =
        (await hub.app.hubMetrics.registry.getMetricsAsJSON()).find((metric) => metric.name === 'sonde_probe_calls_total')?.values ?? [];
      const dispatched = calls.reduce((sum, value) => sum + value.value, 0);
      const ranOk = calls.filter((value) => value.labels.status === 'ok').reduce((sum, value) => sum + value.value, 0);

      const liveAfter = liveBytes();
      const throttled = statuses.get(429) ?? 0;
      console.log(
        `hostile requests: ${sent} sent from ${Math.ceil(sent / PER_SOURCE)} source addresses; statuses ` +
          `${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; ${dispatched} reached the probe dispatcher, ` +
          `${ranOk} ran; audit ${last} entries, ${receiver.seqs.size} exported, ${lost} lost, chain ${verified.ok ? 'intact' : 'BROKEN'}; ` +
          `live heap + buffers after a full GC ${(liveBefore / MiB).toFixed(0)} → ${(liveAfter / MiB).toFixed(0)} MiB; ` +
          `/health ${healthPolls} polls, ${healthOver100} over 100 ms, slowest ${healthMax.toFixed(0)} ms, ${healthFailures.length} failed ${JSON.stringify(healthFailures.slice(0, 10))}; ` +
          `closed without a status line: ${JSON.stringify(Object.fromEntries(closedByKind))}; ` +
          `answered, then reset while the request was still being written: ${JSON.stringify(Object.fromEntries(resetsAfterAnswer))}`,
      );
      reportToSoak({
        suite: 'http-requests',
        seed: SEED,
        requests: sent,
        crashes: 0,
        auditLost: lost,
        memoryBeforeBytes: liveBefore,
        memoryAfterBytes: liveAfter,
        memory: 'hub (in-process) live heap + buffers after a full GC',
        healthMaxMs: healthMax,
        healthPolls,
        healthOver100,
        healthBoundMs: HEALTH_MS,
        throttled,
        dispatched,
        closedWhileSending: [...closedByKind].filter(([kind]) => kind.startsWith('while')).reduce((sum, [, e]) => sum + e.count, 0),
        resetAfterAnswer: [...resetsAfterAnswer.values()].reduce((sum, n) => sum + n, 0),
        closedAfterSending: [...closedByKind].filter(([kind]) => kind.startsWith('after')).reduce((sum, [, e]) => sum + e.count, 0),
      });

      expect(failures, `seed ${SEED}`).toEqual([]);
      expect(healthFailures, `seed ${SEED}: /health must answer 200 within ${HEALTH_MS} ms`).toEqual([]);
      // The throttle is not what this tests: the odd 429 left comes from limits with their own key (login lockout).
      expect(throttled, `seed ${SEED}: requests answered 429`).toBeLessThanOrEqual(Math.ceil(sent / 100));
      expect(ranOk, `seed ${SEED}: generated requests that ran a probe`).toBe(0);
      expect(receiver.forged, `seed ${SEED}: webhook deliveries with a bad signature`).toBe(0);
      expect(lost, `seed ${SEED}: audit entries not in the chain or not exported`).toBe(0);
      // Bounded: caches, pools and the refusal windows of the source addresses may stay; the bodies (up to 400 kB
      // each, hundreds of MiB over a run) may not.
      const kept = liveAfter - liveBefore;
      expect(kept, `seed ${SEED}: ${(kept / MiB).toFixed(1)} MiB still live after a full GC`).toBeLessThan(48 * MiB);
    },
    TIMEOUT_MS,
  );
});
