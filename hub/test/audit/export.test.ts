import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { ConfigError } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import type { AuditRecord } from '../../src/services.js';
import { tempDir, testEnv } from '../helpers.js';

/**
 * Audit export (issue 25) against real listeners on loopback: a TCP, TLS and UDP syslog collector that parses what
 * arrives as RFC 5424, a webhook receiver that checks the signature and can fail, and an OTLP/HTTP logs receiver.
 * The hub is the real app on a real SQLite file; "restart" is a second app on the same file.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const FAST = { pollMs: 100, retryBaseMs: 50, retryMaxMs: 200 };
const WEBHOOK_SECRET = 'webhook-secret-0123456789-abcdefghijk';

async function hub(dir: string, extra: Record<string, string>): Promise<FastifyInstance> {
  const app = await buildApp(loadConfig(testEnv(path.join(dir, 'sonde.db'), extra)), { logger: false, auditExportTuning: FAST });
  await app.ready();
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await app.close();
  });
  const close = app.close.bind(app);
  app.close = (() => {
    closed = true;
    return close();
  }) as typeof app.close;
  return app;
}

function dataDir(): string {
  const { dir, cleanup } = tempDir('sonde-export-');
  cleanups.push(cleanup);
  return dir;
}

const append = (app: FastifyInstance, n: number, action = 'test.export'): Promise<AuditRecord[]> =>
  Promise.all(
    Array.from({ length: n }, (_, i) =>
      app.core.audit.append({
        action,
        actor: { kind: 'system', id: null, name: `tester ${i}` },
        status: i % 3 === 0 ? 'denied' : 'ok',
      }),
    ),
  );

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** RFC 5424 SYSLOG-MSG with our structured data (the ABNF's fields, NILVALUE allowed where the RFC allows it). */
const RFC5424 =
  /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) (\[sonde@32473(?: [^ =\]"]{1,32}="(?:[^"\\\]]|\\["\\\]])*")+\]) \uFEFF(.*)$/s;

interface Syslogged {
  pri: number;
  msgid: string;
  seq: number;
  hash: string;
  entry: AuditRecord;
}

function parseSyslog(message: string): Syslogged {
  const match = RFC5424.exec(message);
  if (!match) throw new Error(`not RFC 5424: ${message.slice(0, 200)}`);
  const sd = match[7];
  const seq = Number(/seq="(\d+)"/.exec(sd)![1]);
  const hash = /hash="([0-9a-f]{64})"/.exec(sd)![1];
  return { pri: Number(match[1]), msgid: match[6], seq, hash, entry: JSON.parse(match[8]) as AuditRecord };
}

/** RFC 6587 octet-counting frames from a stream; returns the messages as they complete. */
function octetCounted(socket: Socket, onMessage: (message: string) => void): void {
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const space = buffer.indexOf(0x20);
      if (space < 0) return;
      const length = Number(buffer.subarray(0, space).toString());
      if (!Number.isInteger(length) || length <= 0) throw new Error(`bad frame length ${buffer.subarray(0, space).toString()}`);
      if (buffer.length < space + 1 + length) return;
      onMessage(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
      buffer = buffer.subarray(space + 1 + length);
    }
  });
}

async function listen(server: NetServer | HttpServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        (server as HttpServer).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

function selfSignedCert(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'collector.key');
  const certFile = path.join(dir, 'collector.crt');
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=collector.test',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  return { key: execFileSync('cat', [keyFile]).toString(), cert: execFileSync('cat', [certFile]).toString(), certFile };
}

function expectContiguous(seqs: number[], from: number, to: number): void {
  const unique = [...new Set(seqs)].sort((a, b) => a - b);
  expect(unique).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
}

describe('audit export to syslog (RFC 5424)', () => {
  it('TCP: every committed entry arrives once, octet-counted, with its seq and chain hash, in order', async () => {
    const received: Syslogged[] = [];
    const server = createNetServer((socket) => octetCounted(socket, (message) => received.push(parseSyslog(message))));
    const port = await listen(server);
    const app = await hub(dataDir(), { SONDE_AUDIT_SYSLOG_URL: `tcp://127.0.0.1:${port}` });
    const records = await append(app, 50);
    const last = records[records.length - 1].seq;
    await until('50 entries at the collector', () => received.some((r) => r.seq === last));
    // Everything in the log, from entry 1 (the hub's own start-up entries) to the last, in order, no gaps.
    expect(received.map((r) => r.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    for (const record of records) {
      const got = received.find((r) => r.seq === record.seq)!;
      expect(got.hash).toBe(record.hash);
      expect(got.entry).toMatchObject({ seq: record.seq, hash: record.hash, action: 'test.export', status: record.status });
      expect(got.msgid).toBe('test.export');
      // Facility 13 (log audit): info for ok, warning for denied.
      expect(got.pri).toBe(13 * 8 + (record.status === 'ok' ? 6 : 4));
    }
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^sonde_audit_export_lag_entries\{sink="syslog"\} 0$/m);
    expect(metrics).toMatch(/^sonde_audit_export_failing\{sink="syslog"\} 0$/m);
  });

  it('TLS with the collector CA from SONDE_AUDIT_SYSLOG_CA; a collector down meanwhile gets the backlog when it comes back', async () => {
    const dir = dataDir();
    const { key, cert, certFile } = selfSignedCert(dir);
    const received: Syslogged[] = [];
    const open = new Set<Socket>();
    const server = createTlsServer({ key, cert }, (socket) => {
      open.add(socket);
      octetCounted(socket, (message) => received.push(parseSyslog(message)));
    });
    const port = await listen(server);
    const app = await hub(dir, { SONDE_AUDIT_SYSLOG_URL: `tls://127.0.0.1:${port}`, SONDE_AUDIT_SYSLOG_CA: certFile });
    const first = await append(app, 5);
    await until('first entries over TLS', () => received.some((r) => r.seq === first[4].seq));

    // The collector goes away: appends still commit at once, the backlog shows in /metrics.
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of open) socket.destroy();
    });
    // Give the hub a moment to see the connection end: an entry written in the instant between the collector's close
    // and the hub noticing it is accepted by the kernel and lost, syslog's documented window (no acknowledgement).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const down = await append(app, 10);
    expect(down).toHaveLength(10);
    await until('the sink to report failing', () => app.auditExport!.status()[0].failing);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(Number(/^sonde_audit_export_lag_entries\{sink="syslog"\} (\d+)$/m.exec(text)![1])).toBeGreaterThan(0);
    expect(text).toMatch(/^sonde_audit_export_failing\{sink="syslog"\} 1$/m);

    // Back on the same port: the backlog arrives, nothing missing.
    const again = createTlsServer({ key, cert }, (socket) => {
      open.add(socket);
      octetCounted(socket, (message) => received.push(parseSyslog(message)));
    });
    again.listen(port, '127.0.0.1');
    await once(again, 'listening');
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          again.close(() => resolve());
          for (const socket of open) socket.destroy();
        }),
    );
    const last = down[9].seq;
    await until('the backlog after the collector came back', () => received.some((r) => r.seq === last));
    expectContiguous(
      received.map((r) => r.seq),
      1,
      last,
    );
    await until('lag back to 0', () => app.auditExport!.status()[0].lagEntries === 0 && !app.auditExport!.status()[0].failing);
  });

  it('UDP: one datagram per entry', async () => {
    const udp = createSocket('udp4');
    const received: Syslogged[] = [];
    udp.on('message', (message) => received.push(parseSyslog(message.toString('utf8'))));
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => udp.close(() => resolve())));
    const app = await hub(dataDir(), {
      SONDE_AUDIT_SYSLOG_URL: `udp://127.0.0.1:${udp.address().port}`,
      SONDE_AUDIT_SYSLOG_FACILITY: '10',
    });
    const records = await append(app, 5);
    await until('5 datagrams', () => received.some((r) => r.seq === records[4].seq));
    expect(received.find((r) => r.seq === records[1].seq)!.pri).toBe(10 * 8 + 6);
  });
});

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
  entries: AuditRecord[];
}

/** A webhook receiver that checks each delivery's signature; `answer` decides the status (default 204). */
async function webhookReceiver(answer: (delivery: Delivery) => number | 'hang' = () => 204) {
  const accepted: Delivery[] = [];
  const attempts: Delivery[] = [];
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(request.headers['x-sonde-timestamp']);
      const expected = `v1=${createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
      if (request.headers['x-sonde-signature'] !== expected) {
        response.writeHead(401).end('bad signature');
        return;
      }
      const delivery = { headers: request.headers, body, entries: (JSON.parse(body) as { entries: AuditRecord[] }).entries };
      attempts.push(delivery);
      const status = answer(delivery);
      if (status === 'hang') return;
      if (status >= 200 && status < 300) accepted.push(delivery);
      response.writeHead(status).end();
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/audit`,
    port,
    accepted,
    attempts,
    seqs: () => accepted.flatMap((d) => d.entries.map((e) => e.seq)),
  };
}

describe('audit export to a webhook', () => {
  it('signs each batch; a receiver failing with 500 gets the same entries again with backoff until it takes them', async () => {
    let failures = 3;
    const receiver = await webhookReceiver(() => (failures-- > 0 ? 500 : 204));
    const app = await hub(dataDir(), { SONDE_AUDIT_WEBHOOK_URL: receiver.url, SONDE_AUDIT_WEBHOOK_SECRET: WEBHOOK_SECRET });
    const records = await append(app, 20);
    const last = records[19].seq;
    await until('all entries accepted', () => receiver.seqs().includes(last));
    expect(receiver.attempts.length).toBeGreaterThanOrEqual(4);
    // The failed attempts carried the entries that were then accepted: retried, not skipped.
    expect(receiver.attempts[0].entries[0].seq).toBe(1);
    expect(receiver.accepted[0].entries[0].seq).toBe(1);
    expect(receiver.accepted[0].headers['x-sonde-delivery']).toMatch(/^1-\d+$/);
    expectContiguous(receiver.seqs(), 1, last);
    // Exactly once while nothing crashed: acknowledged batches are not sent again.
    expect(receiver.seqs()).toHaveLength(last);
    expect(receiver.accepted.find((d) => d.entries.some((e) => e.seq === last))!.entries.find((e) => e.seq === last)!.hash).toBe(
      records[19].hash,
    );
  });

  it('a receiver that never answers does not hold up audit writes', async () => {
    const receiver = await webhookReceiver(() => 'hang');
    const app = await hub(dataDir(), { SONDE_AUDIT_WEBHOOK_URL: receiver.url, SONDE_AUDIT_WEBHOOK_SECRET: WEBHOOK_SECRET });
    await append(app, 1);
    await until('a delivery in flight', () => receiver.attempts.length > 0);
    const started = performance.now();
    const records = await append(app, 200);
    expect(records).toHaveLength(200);
    // Group commits on a loaded 2-core machine: far below anything a blocked write would show (10 s webhook timeout).
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(app.auditExport!.status()[0].lagEntries).toBeGreaterThanOrEqual(200);
  });

  it('resumes after a hub restart from its persisted cursor: nothing lost, nothing acknowledged sent again', async () => {
    const dir = dataDir();
    let accept = true;
    const receiver = await webhookReceiver(() => (accept ? 204 : 503));
    const env = { SONDE_AUDIT_WEBHOOK_URL: receiver.url, SONDE_AUDIT_WEBHOOK_SECRET: WEBHOOK_SECRET };
    const first = await hub(dir, env);
    const before = await append(first, 10);
    await until('the first 10 acknowledged', () => receiver.seqs().includes(before[9].seq));
    accept = false;
    const during = await append(first, 15);
    await until('a refused delivery', () => receiver.attempts.some((d) => d.entries.some((e) => e.seq === during[0].seq)));
    await first.close();
    const acknowledged = receiver.seqs().length;

    accept = true;
    const second = await hub(dir, env);
    const after = await append(second, 5);
    const last = after[4].seq;
    await until('everything after the restart', () => receiver.seqs().includes(last));
    expectContiguous(receiver.seqs(), 1, last);
    // Nothing acknowledged before the restart went again.
    expect(receiver.seqs()).toHaveLength(last);
    expect(receiver.seqs().slice(acknowledged)[0]).toBe(before[9].seq + 1);
  });
});

describe('audit export as OTLP/HTTP JSON logs', () => {
  it('sends ExportLogsServiceRequest batches a collector can read: resource, scope, severity, seq and hash attributes', async () => {
    const requests: { headers: IncomingMessage['headers']; body: unknown }[] = [];
    const server = createHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const port = await listen(server);
    const app = await hub(dataDir(), {
      SONDE_AUDIT_OTLP_URL: `http://127.0.0.1:${port}/v1/logs`,
      SONDE_AUDIT_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=ops',
    });
    const records = await append(app, 3);
    type Req = {
      resourceLogs: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeLogs: { scope: { name: string }; logRecords: Record<string, unknown>[] }[];
      }[];
    };
    const all = () => requests.flatMap((r) => (r.body as Req).resourceLogs[0].scopeLogs[0].logRecords);
    const seqOf = (record: Record<string, unknown>) =>
      Number(
        (record.attributes as { key: string; value: { intValue?: string } }[]).find((a) => a.key === 'sonde.audit.seq')!.value.intValue,
      );
    await until('3 log records', () => all().some((r) => seqOf(r) === records[2].seq));
    expect(requests[0].headers.authorization).toBe('Bearer abc');
    expect(requests[0].headers['x-tenant']).toBe('ops');
    const body = requests[0].body as Req;
    expect(body.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'sonde-hub' } });
    expect(body.resourceLogs[0].scopeLogs[0].scope.name).toBe('sonde.audit');
    const denied = all().find((r) => seqOf(r) === records[0].seq)!;
    expect(denied).toMatchObject({ severityNumber: 13, severityText: 'WARN', timeUnixNano: `${Date.parse(records[0].at)}000000` });
    expect(denied.attributes).toContainEqual({ key: 'sonde.audit.hash', value: { stringValue: records[0].hash } });
    expectContiguous(all().map(seqOf), 1, records[2].seq);
  });
});

describe('audit export configuration', () => {
  it('refuses a webhook without a secret, a CA without a TLS URL and a bad syslog URL, each by name', () => {
    const base = testEnv('/tmp/x.db');
    const problems = (extra: Record<string, string>): string[] => {
      try {
        loadConfig({ ...base, ...extra });
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ SONDE_AUDIT_WEBHOOK_URL: 'https://siem.example.com/hook' })).toEqual([
      'SONDE_AUDIT_WEBHOOK_URL needs SONDE_AUDIT_WEBHOOK_SECRET (the key that signs each delivery)',
    ]);
    expect(problems({ SONDE_AUDIT_SYSLOG_URL: 'tcp://siem:514', SONDE_AUDIT_SYSLOG_CA: '/ca.pem' })).toEqual([
      'SONDE_AUDIT_SYSLOG_CA applies only to a tls:// syslog URL',
    ]);
    expect(problems({ SONDE_AUDIT_SYSLOG_URL: 'http://siem:514' })[0]).toMatch(/^SONDE_AUDIT_SYSLOG_URL must be udp:\/\//);
    expect(loadConfig({ ...base, SONDE_AUDIT_SYSLOG_URL: 'tls://[::1]:6514' }).auditExport.syslog).toMatchObject({
      protocol: 'tls',
      host: '::1',
      port: 6514,
    });
  });
});
