import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real Prometheus (Debian package `prometheus`, installed by scripts/test-setup.mjs)
 * on loopback, scraping the targets given every second. A missing binary fails the
 * test that asks for it, with the command that installs it.
 */
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  metricsPath?: string;
}

export interface RunningPrometheus {
  url: string;
  /** The value of an instant query's first series, or undefined when it has none. */
  value(query: string): Promise<number | undefined>;
  /** Polls until `predicate(value(query))` holds (Prometheus scrapes every second). */
  waitFor(query: string, predicate: (value: number | undefined) => boolean, timeoutMs?: number): Promise<number | undefined>;
  /** The scrape state of each target (`up`/`down`) and its last error. */
  targets(): Promise<{ job: string; health: string; lastError: string }[]>;
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startPrometheus(targets: ScrapeTarget[]): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS_BINARY)) {
    throw new Error(`${PROMETHEUS_BINARY} is missing: install the Debian package with \`apt-get install -y prometheus\``);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'sonde-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      ...targets.map(
        (t) => `  - { job_name: ${t.job}, metrics_path: '${t.metricsPath ?? '/metrics'}', static_configs: [{ targets: ['${t.target}'] }] }`,
      ),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const value = async (query: string): Promise<number | undefined> => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
    const first = body.data?.result?.[0];
    return first ? Number(first.value[1]) : undefined;
  };
  const waitFor = async (query: string, predicate: (value: number | undefined) => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: number | undefined;
    for (;;) {
      if (gone) throw new Error(`Prometheus exited. Its log:\n${log.slice(-2000)}`);
      last = await value(query).catch(() => undefined);
      if (predicate(last)) return last;
      if (Date.now() > deadline) throw new Error(`Prometheus: ${query} was ${last} after ${timeoutMs} ms. Its log:\n${log.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const stop = async (): Promise<void> => {
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('up', (v) => v !== undefined, 15_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    value,
    waitFor,
    async targets() {
      const body = (await (await fetch(`${url}/api/v1/targets`)).json()) as {
        data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] };
      };
      return body.data.activeTargets.map((t) => ({ job: t.labels.job, health: t.health, lastError: t.lastError }));
    },
    log: () => log,
    stop,
  };
}
