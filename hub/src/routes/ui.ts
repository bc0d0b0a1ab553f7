import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/**
 * The dashboard: `/` is the page, `/ui/*` the ES modules of
 * `@sonde/web-components` (its dist/, found at run time: the hub does not
 * import the web components, it serves their files). The page reaches the hub
 * only through the public REST API, same-origin with the session cookie.
 * A strict Content-Security-Policy: scripts and styles from this origin only,
 * no inline script, no framing (the embed views come with their own policy).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** The built dashboard, or undefined when the package is not installed beside the hub. */
export function dashboardDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@sonde/web-components/package.json');
    return path.join(path.dirname(pkg), 'dist');
  } catch {
    return undefined;
  }
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

export const uiRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, options) => {
  const dir = options.dir ?? dashboardDir();
  // Script-mode embedding: a portal page on an allowed origin (SONDE_EMBED_ORIGINS) loads /ui/sonde.js as a module,
  // which the browser fetches with CORS. Other origins get the files without the header, so their pages cannot run them.
  const embedOrigins = new Set(app.hubConfig.embedOrigins);
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (request.url.startsWith('/ui/')) {
      reply.header('vary', 'Origin');
      if (origin && embedOrigins.has(origin)) reply.header('access-control-allow-origin', origin);
    }
    done();
  });
  const send = async (reply: FastifyReply, rel: string): Promise<FastifyReply> => {
    const file = dir ? path.resolve(dir, rel) : undefined;
    // Only files inside dist/, never a path that climbs out of it.
    if (!dir || !file || !file.startsWith(dir + path.sep) || !TYPES[path.extname(file)]) return secure(reply).code(404).send();
    try {
      const body = await readFile(file);
      return secure(reply).type(TYPES[path.extname(file)]).header('cache-control', 'no-cache').send(body);
    } catch {
      return secure(reply).code(404).send();
    }
  };
  app.get('/', (_request, reply) =>
    dir
      ? send(reply, 'index.html')
      : secure(reply).code(404).type('text/plain').send('The dashboard is not installed (@sonde/web-components).'),
  );
  app.get('/ui/*', (request, reply) => send(reply, (request.params as { '*': string })['*']));
  await Promise.resolve();
};
