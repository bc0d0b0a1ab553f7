import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status?: number;
  body?: unknown;
  /** Hold the answer until this promise settles (the loading state). */
  hold?: Promise<unknown>;
  /** Answer as a held-open text/event-stream: `open` gets a writer for SSE chunks (the hub's event stream). */
  sse?: (write: (chunk: string) => void) => void;
}
export type Route = (request: { method: string; path: string; body: unknown; headers: IncomingMessage['headers'] }) => Reply;

/**
 * A real HTTP server on loopback that answers the REST routes an element
 * calls with what a test sets: data, an empty list, a hub error, or a held
 * answer. Elements reach it with their own fetch, across origins, as an
 * embedding page would (hence the CORS headers).
 */
export async function startFixtureHub(routes: Record<string, Route | Reply>): Promise<{
  url: string;
  calls: Array<{ method: string; path: string; body: unknown; authorization?: string }>;
  close: () => Promise<void>;
}> {
  const calls: Array<{ method: string; path: string; body: unknown; authorization?: string }> = [];
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'authorization, content-type, x-sonde-csrf, accept',
    'access-control-allow-methods': 'GET, POST, PATCH, PUT, DELETE',
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors).end();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://fixture');
      const path = url.pathname + url.search;
      const body = raw ? (JSON.parse(raw) as unknown) : undefined;
      calls.push({ method: req.method ?? 'GET', path, body, authorization: req.headers.authorization });
      const key = `${req.method} ${url.pathname}`;
      const route = routes[key] ?? routes[`${req.method} ${path}`];
      const reply: Reply =
        typeof route === 'function'
          ? route({ method: req.method ?? 'GET', path, body, headers: req.headers })
          : (route ?? { status: 404, body: { error: { code: 'SONDE_ERR_NOT_FOUND', message: `no fixture for ${key}` } } });
      if (reply.sse) {
        res.writeHead(200, { ...cors, 'content-type': 'text/event-stream' });
        res.write(': open\n\n');
        reply.sse((chunk) => res.write(chunk));
        return;
      }
      const send = (): void => {
        const status = reply.status ?? 200;
        if (status === 204 || reply.body === undefined) res.writeHead(status, cors).end();
        else res.writeHead(status, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
      };
      if (reply.hold) void reply.hold.finally(send);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
