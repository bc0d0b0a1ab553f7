import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every bad command line exits 2 and says, in our words, what was wrong and
 * what was probably meant, never Node's raw parseArgs text (the real binary).
 */
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

function cli(...args: string[]): { code: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, stderr: run.stderr };
}

describe('sonde-registry usage errors', () => {
  it.each([
    [['sgin', 'pack'], 'unknown command sgin (did you mean sign?)'],
    [
      ['sign', 'pack', '--kye', 'k.json'],
      'unknown option --kye (did you mean --key?); this command takes --key, --published-at, --out, --json',
    ],
    [['sign', 'pack', '--bogus'], 'unknown option --bogus; this command takes --key, --published-at, --out, --json'],
    [['sign', 'pack', '--key'], '--key needs a value'],
    [['verify', 'pack', '--json=yes'], '--json takes no value'],
    [['trust', 'ad-key'], 'unknown trust command ad-key (did you mean add-key?); use one of: init, add-key'],
  ])('%j exits 2: %s', (args, message) => {
    const result = cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/To specify a positional argument|argument missing|\n\s+at /);
  });
});

describe('sonde-registry <command> --help', () => {
  it('prints that command’s usage and exits 0', () => {
    const run = spawnSync(process.execPath, [CLI, 'keygen', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^sonde-registry keygen --out FILE/);
  });
});
