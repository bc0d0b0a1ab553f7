import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pack } from '../manifest/define.js';
import { createHostContext } from '../runtime/host-context.js';
import { runProbe } from '../runtime/run-probe.js';

/**
 * A stand-in for the product on 127.0.0.1:0 that answers documented paths,
 * checks the auth header, and can be told to misbehave (redirect, 500, hang,
 * garbage) so the pack's error handling is tested over a real socket.
 */

export type Mode = 'normal' | 'redirect' | 'error500' | 'hang' | 'garbage';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeApi {
  endpoint: string;
  seen: Seen[];
  mode: Mode;
  close(): Promise<void>;
}

export type Route = (req: Seen, url: URL) => { status?: number; body: unknown; headers?: Record<string, string> } | undefined;

export async function startFakeApi(options: { authorized: (req: Seen) => boolean; route: Route }): Promise<FakeApi> {
  const hanging = new Set<ServerResponse>();
  const api: FakeApi = { endpoint: '', seen: [], mode: 'normal', close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen: Seen = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      api.seen.push(seen);
      const url = new URL(seen.url, api.endpoint);
      const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (api.mode === 'hang') {
        hanging.add(res);
        return;
      }
      if (api.mode === 'redirect') {
        res.writeHead(302, { Location: `http://127.0.0.2:9/elsewhere${url.pathname}` });
        return res.end();
      }
      if (api.mode === 'error500') return json(500, { error: { message: 'internal failure in the fake server', detail: '' } });
      if (api.mode === 'garbage') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<html>maintenance</html>');
      }
      if (!options.authorized(seen))
        return json(401, { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' } });
      const answer = options.route(seen, url);
      if (!answer) return json(404, { error: { message: `no route for ${url.pathname}` } });
      return json(answer.status ?? 200, answer.body, answer.headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return api;
}

/** Runs a probe the way the hub does: real fetch through the host context, declared permissions enforced. */
export async function runOnHost<T = unknown>(
  pack: Pack,
  probe: string,
  params: unknown,
  endpoint: string,
  credentials: Record<string, string>,
  timeoutMs?: number,
): Promise<T> {
  const outcome = await runProbe(pack, probe, params, (signal) =>
    createHostContext({ permissions: pack.manifest.permissions, signal, endpoint, credentials, timeoutMs }),
  );
  return outcome.result as T;
}

/** A bare host context for calling ctx.http directly (to show the guard refuses before any request). */
export function hostContext(pack: Pack, endpoint: string, credentials: Record<string, string> = {}) {
  return createHostContext({ permissions: pack.manifest.permissions, signal: new AbortController().signal, endpoint, credentials });
}
