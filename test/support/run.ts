import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** True when the timeout ended it (code is then 124, as timeout(1) reports). */
  timedOut: boolean;
}

const MAX_OUTPUT = 16 * 1024 * 1024;

/**
 * Runs a command with no terminal (stdin ignored, as in CI) in its own process
 * group, and stops the whole group on timeout or when the test process exits.
 * execFile's `timeout` signals only the direct child: `npm install` or
 * `npm run build` left their own children (node-gyp, tsc, a second npm)
 * running after the test had given up.
 */
export function runCommand(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // a process group of its own, so -pid reaches every descendant
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs ?? 120_000);
    process.once('exit', killGroup);
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk.toString();
    });
    let finished = false;
    const done = (code: number): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      process.removeListener('exit', killGroup);
      // The command's own children may outlive it (a daemon, a stuck grandchild): the group goes with it.
      killGroup();
      resolve({ code: timedOut ? 124 : code, stdout, stderr, timedOut });
    };
    child.once('error', (error) => {
      stderr += error.message;
      done(127);
    });
    child.once('close', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}
