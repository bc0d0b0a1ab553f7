import { z } from 'zod';
import { SondeError, isSondeError } from '../errors.js';
import type { Pack } from '../manifest/define.js';
import type { ProbeContext } from './context.js';
import { describeParamsError } from './params-error.js';

export interface RunProbeOptions {
  /** Overrides the manifest timeout (the hub may ask for less, never more). */
  timeoutMs?: number;
  /** Aborts the run from outside. */
  signal?: AbortSignal;
}

export interface ProbeOutcome {
  result: unknown;
  durationMs: number;
}

/**
 * Why a run's signal is aborted once it is over: one frozen value for every run (a new SondeError per run cost its
 * stack trace each time, in every pack process and for every in-process probe). Frozen, so no handler can change
 * what later runs are told.
 */
const PROBE_FINISHED: SondeError = Object.freeze(new SondeError('SONDE_ERR_PROBE_FAILED', 'probe finished'));

/**
 * The one path from a request to a handler: params are validated before the
 * handler exists as far as the request is concerned, the time limit is
 * enforced around it, and the result must match the declared schema. A host
 * builds `makeContext` so the handler's effects stay within its permissions.
 */
export async function runProbe(
  pack: Pack,
  probeName: string,
  rawParams: unknown,
  makeContext: (signal: AbortSignal) => ProbeContext,
  options: RunProbeOptions = {},
): Promise<ProbeOutcome> {
  const probe = pack.probes.get(probeName);
  const manifest = pack.manifest.probes.find((entry) => entry.name === probeName);
  if (!probe || !manifest) throw new SondeError('SONDE_ERR_UNKNOWN_PROBE', `pack ${pack.manifest.name} has no probe ${probeName}`);
  if (manifest.capability !== 'observe') {
    throw new SondeError(
      'SONDE_ERR_CAPABILITY_REFUSED',
      `probe ${probeName} declares capability ${manifest.capability}; only observe may run`,
    );
  }
  const params = probe.params.safeParse(rawParams ?? {});
  if (!params.success) {
    throw new SondeError('SONDE_ERR_INVALID_PARAMS', `${pack.manifest.name}.${probeName}: ${describeParamsError(params.error)}`);
  }
  const timeoutMs = Math.min(options.timeoutMs ?? manifest.timeoutMs, manifest.timeoutMs);
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new SondeError('SONDE_ERR_TIMEOUT', `${pack.manifest.name}.${probeName} did not finish within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const aborted = new Promise<never>((_, reject) => {
    const fail = (): void => {
      const reason: unknown = controller.signal.reason;
      reject(
        reason instanceof Error ? reason : new SondeError('SONDE_ERR_PROBE_FAILED', `${pack.manifest.name}.${probeName} was cancelled`),
      );
    };
    if (controller.signal.aborted) fail();
    else controller.signal.addEventListener('abort', fail, { once: true });
  });
  const started = performance.now();
  try {
    const raw = await Promise.race([probe.handler(params.data, makeContext(controller.signal)), timedOut, aborted]);
    const result = probe.result.safeParse(raw);
    if (!result.success) {
      throw new SondeError('SONDE_ERR_INVALID_RESULT', `${pack.manifest.name}.${probeName}: ${z.prettifyError(result.error)}`);
    }
    return { result: result.data, durationMs: performance.now() - started };
  } catch (error) {
    if (isSondeError(error)) throw error;
    throw new SondeError(
      'SONDE_ERR_PROBE_FAILED',
      `${pack.manifest.name}.${probeName}: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
    if (!controller.signal.aborted) controller.abort(PROBE_FINISHED);
  }
}
