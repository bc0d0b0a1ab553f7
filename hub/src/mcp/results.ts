import type { ProbeManifest } from '@sonde/pack-sdk';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { DispatchResult } from '../services.js';
import { describeCuts, fitJson } from './budget.js';
import { ToolError } from './errors.js';
import { UNTRUSTED_NOTE } from './probe-tool-schema.js';

/** Parameter names that let a caller page through or narrow a long result. */
const PAGING_PARAMS = ['limit', 'offset', 'tail', 'lines', 'maxLines', 'since', 'page', 'cursor', 'count', 'pattern', 'filter'];

export function pagingParamsOf(manifest: ProbeManifest | undefined): string[] {
  const properties = (manifest?.params.properties ?? {}) as Record<string, unknown>;
  return PAGING_PARAMS.filter((name) => name in properties);
}

/**
 * The JSON text of probe envelopes that `probeEnvelope` already serialised to measure them, so the result text is not
 * serialised a second time. Envelopes are not changed after they are made (a changed one would need a new entry).
 */
const serialised = new WeakMap<object, string>();

/** A compact JSON text result: most clients read only text content. */
export function jsonResult(value: unknown, structured?: Record<string, unknown>): CallToolResult {
  const text = (value !== null && typeof value === 'object' && serialised.get(value)) || JSON.stringify(value);
  const result: CallToolResult = { content: [{ type: 'text', text }] };
  if (structured) result.structuredContent = structured;
  return result;
}

export function errorResult(error: ToolError): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify({ error: { code: error.code, message: error.message } }) }], isError: true };
}

export function dispatchError(result: DispatchResult): ToolError {
  const status = result.status === 'ok' ? 'error' : result.status;
  const reason = result.error?.message ?? `probe ${result.probe} ended with status ${result.status}`;
  return new ToolError(result.error?.code ?? 'SONDE_ERR_PROBE_FAILED', `agent ${result.agent}, probe ${result.probe}: ${reason}`, status);
}

export interface ProbeEnvelope extends Record<string, unknown> {
  agent: string;
  probe: string;
  status: DispatchResult['status'];
  durationMs: number;
  truncated: boolean;
  more?: string;
  note: string;
  data?: unknown;
}

/**
 * Wraps host output so it is clearly delimited from the hub's own words
 * (log lines can carry prompt injections) and fits it into `budgetBytes`.
 */
export function probeEnvelope(
  result: DispatchResult,
  budgetBytes: number,
  pagingParams: string[],
  keep: 'head' | 'tail' = 'head',
): ProbeEnvelope {
  const envelope: ProbeEnvelope = {
    agent: result.agent,
    probe: result.probe,
    status: result.status,
    durationMs: Math.round(result.durationMs),
    truncated: result.truncated,
    note: UNTRUSTED_NOTE,
  };
  if (result.truncated) envelope.more = 'the agent cut this output at its size limit; narrow the request with the probe params';
  // Room for the envelope itself and the sentence describing a cut.
  const headBytes = Buffer.byteLength(JSON.stringify(envelope));
  const room = Math.max(1024, budgetBytes - headBytes - 512);
  // Most results fit: serialise the whole envelope once, measure the data inside it, and keep the text for jsonResult.
  envelope.data = result.result ?? null;
  const text = JSON.stringify(envelope);
  // The text is the head with `,"data":<data>` inserted before its closing brace.
  if (Buffer.byteLength(text) - headBytes - ',"data":'.length <= room) {
    serialised.set(envelope, text);
    return envelope;
  }
  const fitted = fitJson(result.result ?? null, room, keep);
  envelope.data = fitted.value;
  if (fitted.truncated) {
    envelope.truncated = true;
    envelope.more = describeCuts(fitted.cuts, pagingParams);
  }
  return envelope;
}

export function byteLengthOf(result: CallToolResult): number {
  let total = 0;
  for (const item of result.content) if (item.type === 'text') total += Buffer.byteLength(item.text);
  return total;
}
