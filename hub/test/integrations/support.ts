import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { newKeyFile, signPackDir, type KeyFile } from '@sonde/registry';
import { REPO_ROOT } from '../start-command.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A publisher key and a trust store that trusts it for every pack. */
export function publisher(name = 'integration-tests'): KeyFile {
  return newKeyFile({ publisher: name });
}

export function writeTrustStore(file: string, keys: KeyFile[]): void {
  writeFileSync(
    file,
    JSON.stringify({
      type: 'sonde-trust-store',
      keys: keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, publisher: k.publisher })),
      policy: { allow: keys.map((k) => ({ publisher: k.publisher, pack: '*' })) },
    }),
  );
}

export interface CopyOptions {
  version?: string;
  /** Extra credentials declared in sonde-pack.json (widens the permissions). */
  extraCredentials?: string[];
  /** Sign with this key; unsigned when absent. */
  key?: KeyFile;
}

/** What `npm pack` would ship of packs/<name> (package.json, sonde-pack.json, README.md, dist/), optionally re-versioned and signed. */
export async function packCopy(pack: string, into: string, options: CopyOptions = {}): Promise<string> {
  const source = path.join(REPO_ROOT, 'packs', pack);
  const version = options.version ?? '0.1.0';
  const dir = path.join(into, `${pack}-${version}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(source, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(source, 'README.md'), path.join(dir, 'README.md'));
  const pkg = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as Json;
  pkg.version = version;
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const manifest = JSON.parse(readFileSync(path.join(source, 'sonde-pack.json'), 'utf8')) as Json;
  manifest.version = version;
  for (const name of options.extraCredentials ?? [])
    (manifest.permissions.credentials as Json[]).push({ name, description: `extra credential ${name}` });
  writeFileSync(path.join(dir, 'sonde-pack.json'), JSON.stringify(manifest, null, 2));
  if (options.key) await signPackDir(dir, options.key);
  return dir;
}

export interface Api {
  get(url: string): Promise<{ status: number; body: Json }>;
  post(url: string, body?: unknown): Promise<{ status: number; body: Json }>;
  patch(url: string, body: unknown): Promise<{ status: number; body: Json }>;
  del(url: string): Promise<{ status: number; body: Json }>;
}

export function api(base: string, key: string): Api {
  const call = async (method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
  return {
    get: (url) => call('GET', url),
    post: (url, body) => call('POST', url, body ?? {}),
    patch: (url, body) => call('PATCH', url, body),
    del: (url) => call('DELETE', url),
  };
}

/** The official MCP SDK client on `/mcp` or a pack endpoint. */
export async function mcpClient(base: string, key: string, pathname = '/mcp'): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${base}${pathname}`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'integration-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

export function textJson(result: unknown): Json {
  const content = (result as { content: Array<{ type: string; text: string }> }).content;
  return JSON.parse(content[0].text) as Json;
}

export interface RealPrometheus {
  endpoint: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The Debian `prometheus` binary on loopback (CI installs it with .ci/services.sh), scraping itself and one target that
 * refuses connections, as packs/prometheus/test/real-prometheus.test.ts does. A missing binary fails, never skips.
 */
export async function startPrometheus(dir: string): Promise<RealPrometheus> {
  const binary = '/usr/bin/prometheus';
  if (!existsSync(binary)) throw new Error(`${binary} is missing: apt-get install -y prometheus (CI: .ci/services.sh)`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      `  - { job_name: prometheus, static_configs: [{ targets: ['127.0.0.1:${port}'] }] }`,
      "  - { job_name: node, static_configs: [{ targets: ['127.0.0.1:1'] }] }",
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  let exited = false;
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`Prometheus exited. Its log:\n${log.slice(-2000)}`);
    const ready = await fetch(`${endpoint}/api/v1/query?query=up`)
      .then(async (r) => ((await r.json()) as { data?: { result?: unknown[] } }).data?.result?.length === 2)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Prometheus did not scrape both targets within 20 s. Its log:\n${log.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { endpoint, stop: () => child.kill('SIGKILL') };
}
