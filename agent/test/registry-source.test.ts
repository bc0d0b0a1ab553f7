import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { signPackTarball } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PUBLISHER, agentHome, agentUser, ensureBuilt, json, prepareFixturePack, removeDir, runCli } from './support/cli.js';

/**
 * `sonde packs install --registry URL` records the registry beside the pack,
 * so `sonde packs update` asks the same registry, not npm's default. The
 * registry here is a real HTTP server on loopback speaking npm's registry
 * protocol (packument + tarball) to the real npm client.
 */
const user = agentUser();
const PACKAGE = '@sonde/pack-fixture';
let home: string;
let fixture: string;
let server: Server;
let registry: string;
const requests: string[] = [];
const tarballs = new Map<string, Buffer>();

function packVersion(version: string): string {
  const dir = path.join(path.dirname(fixture), `v${version}`);
  cpSync(fixture, dir, { recursive: true });
  for (const file of ['package.json', 'sonde-pack.json']) {
    const data = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { version: string };
    data.version = version;
    writeFileSync(path.join(dir, file), `${JSON.stringify(data, null, 2)}\n`);
  }
  const name = execFileSync('npm', ['pack', '--pack-destination', dir, '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'silent' },
  })
    .trim()
    .split('\n')
    .pop()!;
  return path.join(dir, name);
}

function packument(): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (const [version, data] of tarballs) {
    versions[version] = {
      name: PACKAGE,
      version,
      dist: {
        tarball: `${registry}/tarballs/${version}.tgz`,
        shasum: createHash('sha1').update(data).digest('hex'),
        integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
      },
    };
  }
  const latest = [...tarballs.keys()].sort().at(-1)!;
  return { name: PACKAGE, 'dist-tags': { latest }, versions };
}

async function publish(version: string): Promise<void> {
  const file = packVersion(version);
  await signPackTarball(file, TEST_PUBLISHER);
  tarballs.set(version, readFileSync(file));
}

beforeAll(async () => {
  ensureBuilt();
  home = agentHome(user);
  fixture = await prepareFixturePack(user);
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(url);
    const tarball = /^\/tarballs\/(.+)\.tgz$/.exec(url);
    if (tarball && tarballs.has(tarball[1])) {
      res.setHeader('content-type', 'application/octet-stream');
      return res.end(tarballs.get(tarball[1]));
    }
    if (url === `/${PACKAGE}`) {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify(packument()));
    }
    res.statusCode = 404;
    res.end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await publish('1.0.0');
  chmodSync(path.dirname(fixture), 0o755);
});

afterAll(() => {
  server?.close();
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

// npm's own default must not be what answers: point it at a closed port.
const env = { npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0' };

describe('the registry a pack was installed from', () => {
  it('is remembered: update fetches the newer version from it without --registry', { timeout: 90_000 }, async () => {
    const install = await runCli(['packs', 'install', PACKAGE, '--registry', registry], { home, user, env });
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain(`Updates will fetch from ${registry}`);
    const approve = await runCli(['packs', 'approve', 'fixture', '--json'], { home, user, env });
    expect(approve.code, approve.stderr).toBe(0);

    await publish('1.0.1');
    requests.length = 0;
    const update = await runCli(['packs', 'update', 'fixture', '--json'], { home, user, env });
    const body = json<{ ok: boolean; updates: Array<{ outcome: string; from: string; to?: string; reason: string }> }>(update);
    expect(body.updates[0], update.stderr).toMatchObject({ outcome: 'activated', from: '1.0.0', to: '1.0.1' });
    expect(requests).toContain('/tarballs/1.0.1.tgz');
  });
});
