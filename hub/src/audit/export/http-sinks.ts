import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditRecord } from '../../services.js';
import type { ExportSink } from './exporter.js';

/** A delivery that got no answer within this is a failure (and goes again). */
const DEFAULT_TIMEOUT_MS = 10_000;

/** Ends every request in flight when the sink closes (hub shutdown). */
class InFlight {
  private readonly controllers = new Set<AbortController>();
  closed = false;

  async post(url: string, init: { headers: Record<string, string>; body: string }, timeoutMs: number): Promise<Response> {
    if (this.closed) throw new Error('the sink is closed');
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`no answer from ${new URL(url).host} within ${timeoutMs} ms`)), timeoutMs);
    try {
      // redirect: 'error': a signed audit batch goes to the configured address only.
      return await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal: controller.signal, redirect: 'error' });
    } catch (error) {
      if (controller.signal.aborted && controller.signal.reason instanceof Error) throw controller.signal.reason;
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a certificate error) is in its cause, and
      // it is what an operator reading the dashboard or the log needs. The host only: a webhook path may carry a token.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message;
      if (reason) throw new Error(`could not deliver to ${new URL(url).host}: ${reason}`);
      throw error;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  close(): void {
    this.closed = true;
    for (const controller of this.controllers) controller.abort(new Error('the hub is stopping'));
  }
}

async function requireOk(response: Response, what: string): Promise<string> {
  const text = await response.text().catch(() => '');
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${what} answered ${response.status}${text ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : ''}`);
  }
  return text;
}

/** `v1=` + HMAC-SHA256(secret, timestamp "." body), hex: what a receiver recomputes to authenticate a delivery. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs each batch as `{"entries":[…]}` (JSON, each entry with its seq and
 * chain hash). Headers: `x-sonde-timestamp` (Unix seconds), `x-sonde-signature`
 * (`webhookSignature`, so the receiver can reject forged and, by the
 * timestamp, replayed deliveries), `x-sonde-delivery` (`<first seq>-<last seq>`,
 * the same on every retry of a batch that starts at the same entry). Any 2xx is
 * the acknowledgement; anything else, a network error or no answer within 10 s
 * is retried with backoff.
 */
export class WebhookSink implements ExportSink {
  readonly name = 'webhook';
  private readonly inFlight = new InFlight();

  constructor(private readonly options: { url: string; secret: string; timeoutMs?: number }) {}

  async deliver(entries: AuditRecord[]): Promise<void> {
    const body = JSON.stringify({ entries });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await this.inFlight.post(
      this.options.url,
      {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'sonde-hub audit export',
          'x-sonde-timestamp': timestamp,
          'x-sonde-signature': webhookSignature(this.options.secret, timestamp, body),
          'x-sonde-delivery': `${entries[0].seq}-${entries[entries.length - 1].seq}`,
        },
        body,
      },
      this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    await requireOk(response, 'the audit webhook');
  }

  close(): Promise<void> {
    this.inFlight.close();
    return Promise.resolve();
  }
}

type OtlpValue = { stringValue: string } | { intValue: string } | { arrayValue: { values: OtlpValue[] } };
const str = (value: string): OtlpValue => ({ stringValue: value });

/** OTLP severity numbers (logs data model): INFO 9, WARN 13. */
const otlpSeverity = (status: AuditRecord['status']): { severityNumber: number; severityText: string } =>
  status === 'ok' ? { severityNumber: 9, severityText: 'INFO' } : { severityNumber: 13, severityText: 'WARN' };

/** One entry as an OTLP LogRecord (JSON encoding: 64-bit integers as strings). */
export function otlpLogRecord(entry: AuditRecord): Record<string, unknown> {
  const attributes: { key: string; value: OtlpValue }[] = [
    { key: 'sonde.audit.seq', value: { intValue: String(entry.seq) } },
    { key: 'sonde.audit.hash', value: str(entry.hash) },
    { key: 'sonde.audit.action', value: str(entry.action) },
    { key: 'sonde.audit.status', value: str(entry.status) },
    { key: 'sonde.audit.actor.kind', value: str(entry.actor.kind) },
  ];
  const optional: [string, string | null | undefined][] = [
    ['sonde.audit.actor.id', entry.actor.id],
    ['sonde.audit.actor.name', entry.actor.name],
    ['sonde.audit.client_id', entry.clientId],
    ['sonde.audit.tool', entry.tool],
    ['sonde.audit.probe', entry.probe],
  ];
  for (const [key, value] of optional) if (value !== null && value !== undefined) attributes.push({ key, value: str(value) });
  if (entry.agents && entry.agents.length > 0)
    attributes.push({ key: 'sonde.audit.agents', value: { arrayValue: { values: entry.agents.map(str) } } });
  const nanos = `${BigInt(Date.parse(entry.at)) * 1_000_000n}`;
  return {
    timeUnixNano: nanos,
    observedTimeUnixNano: nanos,
    ...otlpSeverity(entry.status),
    eventName: `sonde.audit.${entry.action}`,
    body: str(JSON.stringify(entry)),
    attributes,
  };
}

/**
 * OpenTelemetry logs over OTLP/HTTP with the JSON encoding (`/v1/logs`): one
 * ExportLogsServiceRequest per batch, resource `service.name=sonde-hub`,
 * scope `sonde.audit`. A 2xx is the acknowledgement; records the collector
 * reports as rejected (`partialSuccess`) are counted in `rejected`, not sent
 * again (they would be rejected again).
 */
export class OtlpLogSink implements ExportSink {
  readonly name = 'otlp';
  private readonly inFlight = new InFlight();
  rejected = 0;

  constructor(private readonly options: { url: string; headers: Record<string, string>; timeoutMs?: number }) {}

  async deliver(entries: AuditRecord[]): Promise<void> {
    const body = JSON.stringify({
      resourceLogs: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: str('sonde-hub') },
              { key: 'host.name', value: str(hostname()) },
            ],
          },
          scopeLogs: [{ scope: { name: 'sonde.audit' }, logRecords: entries.map(otlpLogRecord) }],
        },
      ],
    });
    const response = await this.inFlight.post(
      this.options.url,
      { headers: { ...this.options.headers, 'content-type': 'application/json' }, body },
      this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    const text = await requireOk(response, 'the OTLP collector');
    try {
      const answer = JSON.parse(text || '{}') as { partialSuccess?: { rejectedLogRecords?: string | number } };
      this.rejected += Number(answer.partialSuccess?.rejectedLogRecords ?? 0) || 0;
    } catch {
      // A 2xx without a JSON body is an acknowledgement all the same.
    }
  }

  close(): Promise<void> {
    this.inFlight.close();
    return Promise.resolve();
  }
}
