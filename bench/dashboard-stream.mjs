/* global AbortController, TextDecoder */
// Event-stream fan-out (issue 21): N open dashboards over real loopback HTTP (text/event-stream, read by fetch like
// the elements do) while every one of 1,000 agents changes state. One EventBroker (hub/dist/events/broker.js), fed by
// an in-memory fleet: this measures the hub's fan-out (diff, one serialisation per change, writes to N sockets), not
// the agent gateway. Reports the time from the change to the last dashboard having every event, and the hub's CPU.
import { createServer } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const BROKER = path.resolve(import.meta.dirname, '../hub/dist/events/broker.js');

function view(i, status) {
  return {
    id: `id-${i}`,
    name: `host-${String(i).padStart(4, '0')}`,
    status,
    reasons: status === 'degraded' ? ['attestation changed: config sha256'] : [],
    connected: status !== 'offline',
    lastSeenAt: '2026-12-07T08:00:00.000Z',
    enrolledAt: '2026-12-01T00:00:00.000Z',
    agentVersion: '0.1.0',
    os: 'Debian GNU/Linux 12 (bookworm) (linux 6.1, x64)',
    packs: [{ name: 'system', version: '0.1.0', state: 'active' }],
    isolation: 'permission-model+userns+netns+pidns+ipcns+mountns',
  };
}

export async function fanOut({ agents = 1000, dashboards = 50 } = {}) {
  const { EventBroker } = await import(pathToFileURL(BROKER).href);
  let views = Array.from({ length: agents }, (_, i) => view(i, 'online'));
  let version = 1;
  const fleet = { list: () => views, get: () => undefined, version: () => version };
  const broker = new EventBroker({ fleet, audit: { query: async () => [], last: async () => undefined }, tickMs: 60_000, auditMs: 60_000 });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let unsubscribe;
    req.on('close', () => unsubscribe?.());
    void broker
      .subscribe({ scope: { all: true, agent: () => true, audit: true }, write: (chunk) => res.write(chunk), close: () => res.end() })
      .then((stop) => (unsubscribe = stop));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const abort = new AbortController();
  // Each dashboard counts `event: agent` frames as they arrive.
  const counts = new Array(dashboards).fill(0);
  let wake = () => {};
  const readers = [];
  const opened = [];
  for (let d = 0; d < dashboards; d++) {
    opened.push(
      fetch(url, { signal: abort.signal }).then((response) => {
        readers.push(
          (async () => {
            const decoder = new TextDecoder();
            let carry = '';
            try {
              for await (const chunk of response.body) {
                const text = carry + decoder.decode(chunk, { stream: true });
                const parts = text.split('event: agent\n');
                counts[d] += parts.length - 1;
                carry = parts[parts.length - 1].slice(-20);
                wake();
              }
            } catch {
              // aborted at the end
            }
          })(),
        );
      }),
    );
  }
  await Promise.all(opened);
  while (broker.size < dashboards) await new Promise((resolve) => setTimeout(resolve, 5));

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  views = views.map((v, i) => view(i, i % 3 === 0 ? 'offline' : 'degraded'));
  version += 1;
  broker.checkFleet();
  const published = performance.now() - t0;
  await new Promise((resolve) => {
    wake = () => counts.every((c) => c >= agents) && resolve();
    wake();
  });
  const delivered = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  abort.abort();
  broker.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await Promise.allSettled(readers);
  // The readers run in this process too: the CPU figure is hub side plus the 50 clients' parsing.
  return { agents, dashboards, publishMs: published, deliveredMs: delivered, cpuMs: (cpu.user + cpu.system) / 1000 };
}
