/**
 * Entry of a pack process. Runs under Node's permission model (read only the
 * pack, its dependencies and this folder; no child processes, workers, addons
 * or inspector), usually inside its own user, PID and network namespaces, with
 * an empty environment. It imports the pack, then serves `run` frames on fd 3
 * through pack-sdk's runProbe with a ProbeContext whose every effect is a
 * frame to the agent, which checks it against the approved permissions.
 *
 * argv: <pack entry> <pack-sdk entry> <max frame bytes>
 * Only Node built-ins and ./framing.js are imported statically: anything else
 * would be read from outside the grant. pack-sdk is the one the pack resolves,
 * so both share its instance; in the agent's pack-process bundle
 * (agent/scripts/bundle-pack-process.mjs) this file is `runner.js` and that
 * pack-sdk re-exports the bundle's own module.
 */
import { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import type * as SdkModule from '../index.js';
import type { Pack, ProbeContext } from '../index.js';
import { FrameDecoder, encodeFrame } from './framing.js';
import type { EffectOp, ParentMessage } from './messages.js';

type Sdk = typeof SdkModule;

// The agent starts this process with an empty environment; bwrap sets PWD after --chdir. Nothing of the host.
delete process.env.PWD;
const [packEntry, sdkEntry, maxFrameArg] = process.argv.slice(2);
const maxFrameBytes = Number(maxFrameArg);
const channel = new Socket({ fd: 3, readable: true, writable: true });
const decoder = new FrameDecoder(16 * 1024 * 1024);

function send(message: unknown): void {
  channel.write(encodeFrame(message));
}

interface PendingEffect {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}
const pendingEffects = new Map<number, PendingEffect>();
let nextEffectId = 0;

function errorOf(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' ? code : 'SONDE_ERR_PROBE_FAILED', message: message.slice(0, 3000) };
}

function brokeredContext(run: number, credentials: Record<string, string>, endpoint: string | undefined) {
  const call = (op: EffectOp, args: unknown[]): Promise<never> =>
    new Promise((resolve, reject) => {
      const id = nextEffectId++;
      pendingEffects.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // Trailing undefined options would not survive JSON as tuple members.
      while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
      send({ t: 'effect', id, run, op, args });
    });
  return (signal: AbortSignal): ProbeContext => ({
    credentials,
    endpoint,
    signal,
    exec: (binary, args, options) => call('exec', [binary, [...args], options]),
    readFile: (path, options) => call('readFile', [path, options]),
    listDir: (path) => call('listDir', [path]),
    http: (url, request) => call('http', [url, request]),
  });
}

/** What Node's permission model refused during a run, reported to the agent for its security log. */
const refusals = new Map<number, string>();

/**
 * Wraps each handler so an ERR_ACCESS_DENIED it throws is noted with the
 * permission and resource before runProbe turns it into a plain failure.
 */
function watchRefusals(pack: Pack): Pack {
  const probes = new Map(
    [...pack.probes].map(([name, definition]) => [
      name,
      {
        ...definition,
        handler: async (params: unknown, ctx: ProbeContext): Promise<unknown> => {
          try {
            return await definition.handler(params, ctx);
          } catch (error) {
            const denied = error as { code?: unknown; permission?: string; resource?: string };
            if (denied?.code === 'ERR_ACCESS_DENIED') {
              const run = runOfSignal.get(ctx.signal);
              if (run !== undefined)
                refusals.set(run, `${denied.permission || (error as Error).message}${denied.resource ? ` ${denied.resource}` : ''}`);
            }
            throw error;
          }
        },
      },
    ]),
  );
  return { manifest: pack.manifest, probes, runbooks: pack.runbooks };
}

const runOfSignal = new WeakMap<AbortSignal, number>();

/**
 * The manifest as `ready` carries it (ReadyManifestSchema): every member but the probes' `params` and `result`, which
 * are not read (Object.keys does not), so definePack never makes those JSON Schemas in a pack process.
 */
function readyManifest(manifest: Pack['manifest']): Record<string, unknown> {
  return {
    ...manifest,
    probes: manifest.probes.map((probe) =>
      Object.fromEntries(
        Object.keys(probe)
          .filter((key) => key !== 'params' && key !== 'result')
          .map((key) => [key, probe[key as keyof typeof probe]]),
      ),
    ),
  };
}

async function serve(sdk: Sdk, pack: Pack, message: Extract<ParentMessage, { t: 'run' }>): Promise<void> {
  const started = performance.now();
  const makeContext = brokeredContext(message.id, message.credentials, message.endpoint);
  let reply: Record<string, unknown>;
  try {
    const outcome = await sdk.runProbe(
      pack,
      message.probe,
      message.params,
      (signal) => {
        runOfSignal.set(signal, message.id);
        return makeContext(signal);
      },
      { timeoutMs: message.timeoutMs },
    );
    reply = { t: 'result', id: message.id, ok: true, result: outcome.result, durationMs: performance.now() - started };
    // Serialised once: the frame that is measured is the frame that is sent.
    const frame = encodeFrame(reply);
    if (frame.length <= maxFrameBytes) {
      channel.write(frame);
      return;
    }
    reply = {
      t: 'result',
      id: message.id,
      ok: false,
      error: { code: 'SONDE_ERR_OUTPUT_LIMIT', message: `${message.probe}: the result exceeds ${maxFrameBytes} bytes` },
      durationMs: performance.now() - started,
    };
  } catch (error) {
    const refused = refusals.get(message.id);
    reply = {
      t: 'result',
      id: message.id,
      ok: false,
      error: errorOf(error),
      ...(refused ? { accessDenied: refused.slice(0, 500) } : {}),
      durationMs: performance.now() - started,
    };
  } finally {
    refusals.delete(message.id);
  }
  send(reply);
}

async function main(): Promise<void> {
  let sdk: Sdk;
  let pack: Pack;
  try {
    sdk = (await import(pathToFileURL(sdkEntry ?? '').href)) as Sdk;
    const module = (await import(pathToFileURL(packEntry ?? '').href)) as { default?: Pack };
    if (!module.default || !(module.default.probes instanceof Map)) throw new Error('the entry does not default-export definePack(...)');
    pack = watchRefusals(module.default);
  } catch (error) {
    send({ t: 'load-failed', error: errorOf(error) });
    channel.end();
    return;
  }
  channel.on('data', (chunk: Buffer) => {
    for (const raw of decoder.push(chunk)) {
      const message = raw as ParentMessage;
      if (message.t === 'run') {
        void serve(sdk, pack, message);
      } else if (message.t === 'effect-result') {
        const pending = pendingEffects.get(message.id);
        if (!pending) continue;
        pendingEffects.delete(message.id);
        if (message.ok) pending.resolve(message.value);
        else pending.reject(new sdk.SondeError(message.error.code as never, message.error.message));
      }
    }
  });
  // The agent closing the channel is the end of this process.
  channel.on('end', () => process.exit(0));
  channel.on('error', () => process.exit(1));
  send({ t: 'ready', manifest: readyManifest(pack.manifest) });
}

void main();
