import { createHostContext, isSondeError, runProbe, splitProbeName, type SondeErrorCode } from '@sonde/pack-sdk';
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

/**
 * Runs probe requests with bounded concurrency: at most `maxConcurrency` at
 * once, up to `maxQueue` waiting, anything beyond answered `error` busy at
 * once. Every outcome, success or not, is scrubbed, capped and audited.
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
      const code: SondeErrorCode | 'SONDE_ERR_PROBE_FAILED' = isSondeError(error) ? error.code : 'SONDE_ERR_PROBE_FAILED';
      const message = String(this.options.scrub(error instanceof Error ? error.message : String(error))).slice(0, 2000);
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
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
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
