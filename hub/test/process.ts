import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { CLI_PATH, HUB_ENTRY, HUB_NODE_ARGS, REPO_ROOT, SERVE_ARGS } from './start-command.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`node hub/dist/cli.js …`) as a real process with exactly `env` (plus PATH). */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, cwd: REPO_ROOT, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface RunningHub {
  child: ChildProcess;
  url: string;
  port: number;
  /** Milliseconds from spawn to the first successful /api/v1/health. */
  startToHealthMs: number;
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts `node hub/dist/cli.js serve` and waits for /api/v1/health. */
export async function startHubProcess(env: Record<string, string>): Promise<RunningHub> {
  const started = performance.now();
  const child = spawn(process.execPath, [...HUB_NODE_ARGS, HUB_ENTRY, ...SERVE_ARGS], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Whatever fails below, the process this function started is stopped before the error reaches the test:
  // the caller never gets a handle to a hub that did not come up, so it could not stop it.
  const fail = (error: unknown): never => {
    child.kill('SIGKILL');
    throw error;
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), 30_000);
    const check = (): void => {
      const match = /"port":(\d+)[^\n]*"msg":"sonde hub listening"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code}:\n${out}`));
    });
  }).catch(fail);
  const scheme = env.SONDE_TLS === 'auto' ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  if (scheme === 'http') {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${url}/api/v1/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) fail(new Error(`hub never answered /api/v1/health:\n${out}`));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const startToHealthMs = Math.round(performance.now() - started);
  return {
    child,
    url,
    port,
    startToHealthMs,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
