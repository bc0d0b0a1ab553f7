import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHostContext, runProbe } from '@sonde/pack-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { recorded } from './recorded.js';

/**
 * The real docker CLI against a stand-in engine on a unix socket: there is no
 * Docker engine here, but this proves the CLI accepts our argv and templates
 * and that the probes parse what the CLI really prints. The engine answers
 * with Engine API v1.50 shapes (see the Docker Engine API reference).
 */

const hasClient = ['/usr/bin/docker', '/usr/local/bin/docker'].some((p) => existsSync(p));

/** Docker's stdcopy framing for non-TTY logs: [stream, 0, 0, 0, size(4, big endian)] + payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const CONTAINERS = [
  {
    Id: '30a73eea432e8d5bb4b1c05a8a5a6c0f2f1b5a0d7e9c4f3a2b1c0d9e8f7a6b5c',
    Names: ['/web'],
    Image: 'nginx:alpine',
    ImageID: 'sha256:2bc7edbc3cf2fce630a95d0586c48cd248e5df37df5b1244728a5c8c91becfe0',
    Command: "/docker-entrypoint.sh nginx -g 'daemon off;'",
    Created: 1677790759,
    Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
    Labels: { maintainer: 'NGINX Docker Maintainers <docker-maint@nginx.com>' },
    State: 'running',
    Status: 'Up 8 seconds (healthy)',
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2' } } },
    Mounts: [],
  },
  {
    Id: '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
    Names: ['/cron'],
    Image: 'alpine:3.17',
    ImageID: 'sha256:b2aa39c304c27b96c1fef0c06bee651ac9241d49c4fe34381cab8453f9a89c7d',
    Command: 'crond -f',
    Created: 1677496800,
    Ports: [],
    Labels: {},
    State: 'exited',
    Status: 'Exited (137) 2 days ago',
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: { bridge: { IPAddress: '' } } },
    Mounts: [],
  },
];

const IMAGES = [
  {
    Id: 'sha256:2bc7edbc3cf2fce630a95d0586c48cd248e5df37df5b1244728a5c8c91becfe0',
    ParentId: '',
    RepoTags: ['nginx:alpine'],
    RepoDigests: ['nginx@sha256:6318314189b40e73145a48060bff4783a116c34cc7241532d0d94198fb2c9629'],
    Created: 1675992171,
    Size: 40_720_000,
    SharedSize: -1,
    Labels: null,
    Containers: -1,
  },
  {
    Id: 'sha256:1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c',
    ParentId: '',
    RepoTags: null,
    RepoDigests: null,
    Created: 1677600225,
    Size: 182_100_000,
    SharedSize: -1,
    Labels: null,
    Containers: -1,
  },
];

describe.skipIf(!hasClient)('docker probes: real docker CLI against a stand-in engine', () => {
  let dir: string;
  let server: Server;
  let dockerHost: string;
  const requests: string[] = [];

  const onHost = (probe: string, params: unknown) =>
    runProbe(pack, probe, params, (signal) =>
      createHostContext({ permissions: pack.manifest.permissions, signal, env: { DOCKER_HOST: dockerHost, HOME: dir } }),
    );

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sonde-docker-'));
    const socket = path.join(dir, 'docker.sock');
    dockerHost = `unix://${socket}`;
    const inspect = (JSON.parse(recorded('inspect-web.json')) as unknown[])[0];
    const info = JSON.parse(recorded('info.json')) as Record<string, unknown>;
    delete info.ClientInfo;
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://engine');
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      res.setHeader('Api-Version', '1.50');
      res.setHeader('Ostype', 'linux');
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const route = url.pathname.replace(/^\/v[\d.]+/, '');
      if (route === '/_ping') return res.end('OK');
      if (route === '/containers/json')
        return json(200, url.searchParams.get('all') === '1' ? CONTAINERS : CONTAINERS.filter((c) => c.State === 'running'));
      if (route === '/images/json') return json(200, IMAGES);
      if (route === '/info') return json(200, info);
      if (route === '/containers/web/json') return json(200, inspect);
      // The CLI inspects first, then asks for logs by container ID.
      if (route === '/containers/web/logs' || route === `/containers/${CONTAINERS[0].Id}/logs`) {
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
        res.write(frame(2, '2023-03-02T20:59:19.840210523Z /docker-entrypoint.sh: Configuration complete; ready for start up\n'));
        res.write(
          frame(
            1,
            '2023-03-02T20:59:20.114412057Z 172.17.0.1 - - [02/Mar/2023:20:59:20 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.88.1" "-"\n',
          ),
        );
        return res.end();
      }
      const missing = /^\/containers\/([^/]+)\//.exec(route);
      json(404, { message: `No such container: ${missing?.[1] ?? route}` });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('containers.list: the CLI accepts the field template and the probe reads its output', async () => {
    const { result } = await onHost('containers.list', {});
    expect(result).toMatchObject({
      counts: { running: 1, exited: 1 },
      containers: [
        {
          names: ['web'],
          image: 'nginx:alpine',
          state: 'running',
          health: 'healthy',
          exitCode: null,
          ports: ['0.0.0.0:8080->80/tcp'],
          networks: ['bridge'],
          labels: { maintainer: 'NGINX Docker Maintainers <docker-maint@nginx.com>' },
        },
        { names: ['cron'], state: 'exited', exitCode: 137 },
      ],
    });
    // The field template does not make the CLI ask the engine for sizes.
    expect(requests.filter((r) => r.includes('/containers/json')).every((r) => !r.includes('size=1'))).toBe(true);
  });

  it('images.list, daemon.info and container.inspect', async () => {
    const images = (await onHost('images.list', {})).result as {
      images: Array<{ repository: string | null; tag: string | null; sizeBytes: number }>;
      dangling: number;
    };
    // The CLI prints sizes with three significant digits (40.7MB), so bytes are approximate.
    expect(images.images[0]).toMatchObject({ repository: 'nginx', tag: 'alpine', sizeBytes: 40_700_000 });
    expect(images.dangling).toBe(1);
    expect((await onHost('daemon.info', {})).result).toMatchObject({
      serverVersion: '28.2.2',
      running: 2,
      clientVersion: expect.any(String),
    });
    const inspect = (await onHost('container.inspect', { container: 'web' })).result as { name: string; envCount: number };
    expect(inspect).toMatchObject({ name: 'web', envCount: 3 });
    expect(JSON.stringify(inspect)).not.toContain('s3cr3t');
  });

  it('container.logs splits the multiplexed streams', async () => {
    const { result } = await onHost('container.logs', { container: 'web', lines: 50, sinceMinutes: 30 });
    expect((result as { lines: Array<{ stream: string; time: string }> }).lines.map((l) => l.stream)).toEqual(['stderr', 'stdout']);
    expect(requests.some((r) => r.includes('/logs?') && r.includes('tail=50') && r.includes('timestamps=1'))).toBe(true);
  });

  it('an unknown container is a clear error', async () => {
    await expect(onHost('container.inspect', { container: 'nope' })).rejects.toMatchObject({ message: 'no container named nope' });
  });
});
