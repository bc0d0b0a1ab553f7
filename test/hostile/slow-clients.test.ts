import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../hub/test/helpers.js';
import { startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { reportToSoak } from './soak-report.js';

/**
 * Slowloris and half-open sockets on the hub's one listener (REST, /mcp and /ws/agent share it): hundreds of
 * connections that send a request line and then a header byte now and then, hundreds that connect and send nothing,
 * and WebSocket upgrades that never finish. Meanwhile a client on a fresh connection gets /api/v1/health and
 * /api/v1/ready answered.
 */
const SLOW = 300;
const SILENT = 300;
const UPGRADES = 100;

function health(url: string): Promise<{ status: number | string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    get(url, { agent: false, timeout: 10_000 }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, ms: performance.now() - started });
    }).on('error', (error) => resolve({ status: error.message, ms: performance.now() - started }));
  });
}

describe('slow and half-open clients', () => {
  const { dir, cleanup } = tempDir('sonde-slow-');
  let hub: RunningHub;
  const sockets: Socket[] = [];
  let drip: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    hub = await startHubProcess({
      SONDE_SECRET: randomBytes(32).toString('base64'),
      SONDE_DB_PATH: path.join(dir, 'sonde.db'),
      SONDE_ADMIN_USER: 'admin',
      SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
      SONDE_PORT: '0',
      SONDE_LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    if (drip) clearInterval(drip);
    for (const socket of sockets) socket.destroy();
    await hub?.stop();
    cleanup();
  });

  it('the hub keeps answering while they hold their connections', async () => {
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(hub.port, '127.0.0.1', () => resolve(socket));
        socket.on('error', () => undefined);
        socket.once('error', reject);
        sockets.push(socket);
      });
    for (let i = 0; i < SLOW; i++) (await open()).write(`GET /api/v1/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${i}: `);
    for (let i = 0; i < SILENT; i++) await open();
    for (let i = 0; i < UPGRADES; i++) {
      (await open()).write(
        `GET /ws/agent HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n`,
      );
    }
    // One more header byte on each slow connection every second, as slowloris does.
    drip = setInterval(() => {
      for (const socket of sockets.slice(0, SLOW)) if (!socket.destroyed) socket.write('a');
    }, 1_000);

    const answers = [];
    for (let i = 0; i < 20; i++) {
      answers.push(await health(`${hub.url}/api/v1/health`));
      answers.push(await health(`${hub.url}/api/v1/ready`));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const open_ = sockets.filter((socket) => !socket.destroyed).length;
    console.log(
      `slow clients: ${SLOW} slowloris, ${SILENT} silent, ${UPGRADES} unfinished upgrades; ${open_} still open after ` +
        `${answers.length} checks; slowest /health or /ready ${Math.max(...answers.map((a) => a.ms)).toFixed(0)} ms`,
    );
    reportToSoak({
      suite: 'slow-clients',
      seed: 0,
      requests: answers.length,
      crashes: hub.child.exitCode === null ? 0 : 1,
      healthMaxMs: Math.max(...answers.map((a) => a.ms)),
    });
    expect(answers.map((a) => a.status)).toEqual(Array(answers.length).fill(200));
    expect(hub.child.exitCode).toBeNull();
  });
});
