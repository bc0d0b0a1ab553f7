import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config.js';
import { errorBody, HubErrors } from './errors.js';

/**
 * The hub's sockets besides Fastify's main listener. A fleet reconnecting after a restart fills the main listener's
 * accept queue (bench/herd.mjs: tens of thousands of kernel listen overflows for 10,000 agents), and a load balancer's
 * or Prometheus's check waits in that queue too, behind SYN retransmits. Two answers, both operator settings:
 * SONDE_LISTEN_BACKLOG (a longer accept queue on the main listener) and SONDE_DIAG_ADDR (health, readiness and metrics
 * on a socket of their own, whose queue no agent ever joins).
 */

/** What the diagnostics listener serves: the main listener's own routes at these paths (GET and HEAD), nothing else. */
export const DIAG_PATHS: ReadonlySet<string> = new Set(['/api/v1/health', '/api/v1/ready', '/metrics']);

/** net.core.somaxconn, the kernel's cap on any listen backlog (Linux); undefined where it cannot be read. */
export function somaxconn(): number | undefined {
  try {
    const value = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface DiagListener {
  address: AddressInfo;
  /** Stops listening and ends its connections; safe to call more than once. */
  close(): Promise<void>;
}

function notFound(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(errorBody('SONDE_ERR_NOT_FOUND', HubErrors.SONDE_ERR_NOT_FOUND.message));
  response.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/**
 * SONDE_DIAG_ADDR: a plain-HTTP listener of its own (its own socket and accept queue) for `/api/v1/health`,
 * `/api/v1/ready` and `/metrics`. Those requests go through the main app's own router (`app.routing`, what Fastify's
 * server calls), so the handlers, hooks, error bodies and `/metrics`'s SONDE_METRICS_TOKEN check are the main
 * listener's, not a copy; any other path or method is answered 404 here and never reaches the app. Closed when the
 * main listener closes (`app.close()`), and while the app closes it answers 503 as the main listener does.
 */
export async function listenDiagnostics(app: FastifyInstance, at: { host: string; port: number }): Promise<DiagListener> {
  const server = createServer(
    // A check is one small request: a peer that dribbles its headers does not hold a connection for minutes.
    { headersTimeout: 5_000, requestTimeout: 10_000 },
    (request, response) => {
      const path = (request.url ?? '').split('?', 1)[0];
      if ((request.method === 'GET' || request.method === 'HEAD') && DIAG_PATHS.has(path)) app.routing(request, response);
      else notFound(request, response);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new ConfigError([`SONDE_DIAG_ADDR ${at.host}:${at.port} cannot be listened on (${reason})`]);
  });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  app.server.once('close', () => void close());
  return { address: server.address() as AddressInfo, close };
}
