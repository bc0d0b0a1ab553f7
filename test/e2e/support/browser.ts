import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const REPO = path.resolve(import.meta.dirname, '../../..');
export const CHROMIUM = process.env.SONDE_CHROMIUM ?? '/usr/bin/chromium';
export const UI_DIST = path.join(REPO, 'web-components/dist');
export const SCREENSHOTS = path.join(REPO, '.test-results/screenshots');

/** Headless Debian Chromium with the flags from the toolchain notes; Playwright gives it a fresh temporary profile. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
    },
  };
}

/** The newest modification time of a file under `file` (itself when it is a file). */
function newest(file: string): number {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((entry) => newest(path.join(file, entry))));
}

/**
 * Builds web-components/dist from the current sources when any is newer than the last build (its size.json, written
 * at the end), as the build itself decides for the manifest: so the browser tests never run a stale bundle. An
 * up-to-date build is kept: building again removes dist/ files that another test file's hub may be serving that
 * moment (a browser test in the other worker then loads a missing sonde.js), and costs esbuild's second each time.
 */
export function buildUi(): void {
  const ui = path.join(REPO, 'web-components');
  const built = statSync(path.join(UI_DIST, 'size.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(...['src', 'scripts', 'package.json', 'tsconfig.json'].map((input) => newest(path.join(ui, input))));
  if (built > sources) return;
  execFileSync(process.execPath, [path.join(ui, 'scripts/build.mjs')], { cwd: REPO, stdio: 'pipe' });
}

export const haveChromium = (): boolean => existsSync(CHROMIUM);

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.json': 'application/json' };

/**
 * A same-origin front for a hub that does not serve the dashboard itself:
 * `/` and `/ui/*` from web-components/dist, everything else passed to the hub
 * unchanged (so the session cookie is first-party, as when the hub serves it).
 */
export async function startUiFront(hubUrl: string, pages: Record<string, string> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const hub = new URL(hubUrl);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    const extra = pages[url.pathname];
    if (extra !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(extra);
      return;
    }
    if (url.pathname === '/' || url.pathname.startsWith('/ui/')) {
      const rel = url.pathname === '/' ? 'index.html' : url.pathname.slice('/ui/'.length);
      const file = path.resolve(UI_DIST, rel);
      if (!file.startsWith(UI_DIST + path.sep) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
      return;
    }
    const upstream = httpRequest(
      { host: hub.hostname, port: hub.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
