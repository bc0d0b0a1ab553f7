import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const WORKER = path.join(import.meta.dirname, 'worker.ts');
const REPO = path.resolve(import.meta.dirname, '../../..');

/** What one worker process reports: the operation's result, or the message of the error it threw. */
export type WorkerResult = Record<string, unknown> & { error?: string };

/**
 * Runs `op` once per entry of `argsList`, each in its own process with its own
 * store (its own connection) on the database at `location`. Every process
 * opens its store first and reports ready; only when all are ready are they
 * told to go together, so the operations overlap for real.
 */
export async function race(location: string, op: string, argsList: unknown[]): Promise<WorkerResult[]> {
  const children: ChildProcess[] = [];
  try {
    const workers = argsList.map((args) => {
      const child = spawn(process.execPath, ['--conditions=sonde-source', '--import', 'tsx', WORKER, location, op, JSON.stringify(args)], {
        cwd: REPO,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.startsWith('ready\n')) resolve();
        });
        void exited.then((code) => reject(new Error(`worker ${op} exited (${code}) before it was ready:\n${err}`)));
      });
      const result = exited.then((code): WorkerResult => {
        const line = out.split('\n').find((text) => text.startsWith('{'));
        if (code !== 0 || !line) throw new Error(`worker ${op} exited with ${code}:\n${out}\n${err}`);
        return JSON.parse(line) as WorkerResult;
      });
      // Observed now, so an early failure of one worker is not an unhandled rejection while the others start.
      result.catch(() => undefined);
      return { child, ready, result };
    });
    await Promise.all(workers.map((w) => w.ready));
    for (const { child } of workers) child.stdin.end('go\n');
    return await Promise.all(workers.map((w) => w.result));
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
