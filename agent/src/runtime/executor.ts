import { createHostContext, isSondeError, runProbe, splitProbeName } from '@sonde/pack-sdk';
import { MAX_FRAME_BYTES, type ProbeRequest, type ProbeResult } from '@sonde/pack-sdk/protocol';
import type { Logger } from 'pino';
import type { AuditRing } from '../audit/ring.js';
import { capResult } from './cap.js';
import type { LoadedPack } from './load-packs.js';
import type { Scrub } from './scrub.js';

/** Room left in a frame for the envelope, the signature and the other result fields. */
const FRAME_OVERHEAD_BYTES = 32 * 1024;

export interface ExecutorOptions {
  packs: ReadonlyMap<string, LoadedPack>;
  /** Host paths no pack may read whatever it declares. */
  deniedPaths: readonly string[];
  scrub: Scrub;
  audit: AuditRing;
  maxConcurrency: number;
  maxQueue: number;
  log: Logger;
  /** A refused effect the operator must see (sent to the hub as agent.security). */
  onSecurityEvent: (event: { kind: string; pack?: string; probe?: string; detail: string }) => void;
}

const DENIED_CODES = new Set<string>(['SONDE_ERR_PERMISSION_DENIED', 'SONDE_ERR_CAPABILITY_REFUSED']);

/** The wire's bounds on a result's error (WireErrorSchema): what a pack throws is cut to them here. */
const MAX_ERROR_CODE_CHARS = 64;
const MAX_ERROR_MESSAGE_CHARS = 2000;

/** A pack's error code as the wire carries it: a string of at most 64 characters, else the generic failure. */
function wireCode(error: unknown): string {
  const code: unknown = isSondeError(error) ? error.code : undefined;
  return typeof code === 'string' && code.length > 0 && code.length <= MAX_ERROR_CODE_CHARS ? code : 'SONDE_ERR_PROBE_FAILED';
}

/**
 * Runs probe requests with bounded concurrency: at most `maxConcurrency` at
 * once, up to `maxQueue` waiting, anything beyond answered `error` busy at
 * once. Every outcome, success or not, is scrubbed, capped and audited.
 *
 * Every ProbeResult it returns is valid for ProbeResultSchema by construction (requestId from the verified request,
 * a status of the enum, an error code and message within the wire's bounds, durationMs ≥ 0, `result` any value, as
 * the schema allows), so the connection signs it without a zod parse of its own; the hub parses every frame it
 * receives (decodeMessage). executor.test.ts checks the outcomes against the schema.
 */
export class ProbeExecutor {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: ExecutorOptions) {}

  get inFlight(): number {
    return this.running;
  }

  async handle(request: ProbeRequest): Promise<ProbeResult> {
    const started = performance.now();
    if (this.running >= this.options.maxConcurrency) {
      if (this.waiting.length >= this.options.maxQueue) {
        return this.finish(request, started, {
          status: 'error',
          error: { code: 'SONDE_ERR_BUSY', message: 'agent is at its concurrency limit; retry later' },
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      return await this.execute(request, started);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async execute(request: ProbeRequest, started: number): Promise<ProbeResult> {
    const names = splitProbeName(request.probe);
    const loaded = names ? this.options.packs.get(names.pack) : undefined;
    if (!names || !loaded) {
      return this.finish(request, started, {
        status: 'error',
        error: { code: 'SONDE_ERR_UNKNOWN_PROBE', message: `no active pack serves ${request.probe}` },
      });
    }
    const manifest = loaded.pack.manifest.probes.find((probe) => probe.name === names.probe);
    try {
      const outcome = loaded.runner
        ? await loaded.runner.run(names.probe, request.params, request.timeoutMs)
        : await runProbe(
            loaded.pack,
            names.probe,
            request.params,
            (signal) =>
              createHostContext({
                permissions: loaded.pack.manifest.permissions,
                signal,
                deniedPaths: this.options.deniedPaths,
                timeoutMs: manifest?.timeoutMs,
                maxOutputBytes: manifest?.maxOutputBytes,
              }),
            { timeoutMs: request.timeoutMs },
          );
      const budget = Math.min(manifest?.maxOutputBytes ?? MAX_FRAME_BYTES, MAX_FRAME_BYTES - FRAME_OVERHEAD_BYTES);
      // Cap, scrub, cap again: scrubbing megabytes that would be cut anyway only costs time, and a
      // redaction marker can be longer than the secret it replaces.
      const precap = capResult(outcome.result, budget);
      const scrubbed = capResult(this.options.scrub(precap.value), budget);
      const capped = { ...scrubbed, truncated: precap.truncated || scrubbed.truncated, originalBytes: precap.originalBytes };
      if (capped.truncated)
        this.options.log.warn({ probe: request.probe, bytes: capped.originalBytes, budget }, 'probe result truncated to fit the frame');
      return this.finish(request, started, { status: 'ok', result: capped.value, truncated: capped.truncated });
    } catch (error) {
      const code = wireCode(error);
      const message = String(this.options.scrub(error instanceof Error ? error.message : String(error))).slice(0, MAX_ERROR_MESSAGE_CHARS);
      const status = code === 'SONDE_ERR_TIMEOUT' ? 'timeout' : DENIED_CODES.has(code) ? 'denied' : 'error';
      if (status === 'denied') {
        this.options.log.warn({ probe: request.probe, code }, `refused effect: ${message}`);
        // A sandboxed pack's broker already reported its refusals as they happened.
        if (!loaded.runner || code !== 'SONDE_ERR_PERMISSION_DENIED')
          this.options.onSecurityEvent({ kind: 'effect-refused', pack: names.pack, probe: request.probe, detail: message });
      }
      return this.finish(request, started, { status, error: { code, message } });
    }
  }

  private finish(
    request: ProbeRequest,
    started: number,
    outcome: Pick<ProbeResult, 'status' | 'result' | 'error'> & { truncated?: boolean },
  ): ProbeResult {
    const durationMs = Math.max(0, Math.round((performance.now() - started) * 1000) / 1000);
    this.options.audit.append({
      requestId: request.requestId,
      probe: request.probe,
      params: request.params,
      status: outcome.status,
      durationMs,
    });
    return {
      requestId: request.requestId,
      durationMs,
      truncated: outcome.truncated ?? false,
      status: outcome.status,
      result: outcome.result,
      error: outcome.error,
    };
  }
}
