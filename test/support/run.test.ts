import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCommand } from './run.js';

/** Alive and not a zombie (a killed orphan may wait for a PID 1 that does not reap). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('runCommand', () => {
  it('a timeout stops the command and everything it started, not only the command', async () => {
    // A parent that starts a long-lived child and waits, like npm running an install script.
    const script = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log(child.pid);
      setInterval(() => {}, 1000);`;
    const result = await runCommand(process.execPath, ['-e', script], { timeoutMs: 1_000 });
    expect(result).toMatchObject({ code: 124, timedOut: true });
    const grandchild = Number(result.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    await expect.poll(() => running(grandchild), { timeout: 10_000 }).toBe(false);
  });

  it('returns the exit code and output of a command that finishes', async () => {
    const result = await runCommand(process.execPath, ['-e', 'console.log("out"); console.error("err"); process.exit(3)']);
    expect(result).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    expect((await runCommand('/nonexistent/binary', [])).code).toBe(127);
  });
});
