import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
