import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cpuTimeMs, ProcessCpu } from './proc-stat.js';

const onLinux = process.platform === 'linux';

describe.skipIf(!onLinux)('ProcessCpu (/proc/<pid>/stat kept open)', () => {
  it('reads the same CPU time as a fresh read of the file, and a new value on every reading', () => {
    const cpu = new ProcessCpu(process.pid);
    try {
      const first = cpu.ms()!;
      expect(first).toBeGreaterThanOrEqual(0);
      // Busy for ~60 ms of CPU: the next reading must see it (the kernel writes the line afresh for each pread).
      const until = process.cpuUsage().user + 60_000;
      while (process.cpuUsage().user < until) Math.sqrt(Math.random());
      const second = cpu.ms()!;
      expect(second).toBeGreaterThan(first);
      const fresh = cpuTimeMs(process.pid)!;
      expect(Math.abs(fresh - second)).toBeLessThanOrEqual(20);
    } finally {
      cpu.close();
    }
  });

  it('reports undefined once the process is gone, and after close', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10_000)'], { stdio: 'ignore' });
    const cpu = new ProcessCpu(child.pid!);
    expect(cpu.ms()).toBeGreaterThanOrEqual(0);
    child.kill('SIGKILL');
    await once(child, 'exit');
    // Reaped: the descriptor names that process, not its number, so a reused pid cannot answer for it.
    expect(cpu.ms()).toBeUndefined();
    cpu.close();
    expect(cpu.ms()).toBeUndefined();
    cpu.close();
  });

  it('reports undefined for a process that does not exist', () => {
    const cpu = new ProcessCpu(2 ** 22 + 12345);
    expect(cpu.ms()).toBeUndefined();
    cpu.close();
  });
});
