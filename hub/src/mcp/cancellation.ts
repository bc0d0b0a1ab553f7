/**
 * A signal aborted when either of two is, with the listeners it adds removed by `release()` (call it when the work
 * the signal guards has ended). `AbortSignal.any` does the same but on Node 20 costs 150-500 µs of CPU per call
 * (a WeakRef and a FinalizationRegistry entry per source, then the collector's work on them), which was a fifth of the
 * hub's CPU per MCP tools/call; two listeners and one controller cost about a microsecond.
 */
export function eitherSignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; release: () => void } {
  if (a.aborted) return { signal: a, release: noop };
  if (b.aborted) return { signal: b, release: noop };
  const controller = new AbortController();
  const release = (): void => {
    a.removeEventListener('abort', onAbort);
    b.removeEventListener('abort', onAbort);
  };
  function onAbort(this: AbortSignal): void {
    release();
    controller.abort(this.reason);
  }
  a.addEventListener('abort', onAbort);
  b.addEventListener('abort', onAbort);
  return { signal: controller.signal, release };
}

function noop(): void {}
