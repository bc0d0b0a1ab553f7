import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const runbook = pack.runbooks[0];

describe('resources runbook', () => {
  it('is ok on a quiet host', () => {
    const findings = runbook.evaluate({
      'disk.usage': { filesystems: [{ mountpoint: '/', usedPercent: 23 }] },
      'memory.usage': { usedPercent: 12, swapUsedPercent: 0 },
      'load.average': { load1PerCpu: 0.1, load5: 0.2, cpus: 2 },
    });
    expect(findings.map((f) => f.severity)).toEqual(['ok', 'ok', 'ok']);
    expect(findings[0].summary).toBe('fullest filesystem / is 23% used');
  });

  it('flags a full disk as critical, memory pressure and load as warnings, and a failed step', () => {
    const findings = runbook.evaluate({
      'disk.usage': {
        filesystems: [
          { mountpoint: '/', usedPercent: 40 },
          { mountpoint: '/var', usedPercent: 97 },
        ],
      },
      'memory.usage': { usedPercent: 90, swapUsedPercent: 10 },
      'load.average': { error: { code: 'SONDE_ERR_FILE_NOT_FOUND', message: '/proc/loadavg does not exist' } },
    });
    expect(findings).toEqual([
      { severity: 'critical', summary: 'fullest filesystem /var is 97% used', probe: 'disk.usage' },
      { severity: 'warning', summary: 'memory 90% used, swap 10% used', probe: 'memory.usage' },
      { severity: 'warning', summary: 'load.average failed: /proc/loadavg does not exist', probe: 'load.average' },
    ]);
  });
});
