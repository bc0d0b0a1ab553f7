import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const runbook = pack.runbooks[0];

describe('systemd services runbook', () => {
  it('failed units are critical, restart loops a warning', () => {
    const findings = runbook.evaluate({
      'units.failed': { count: 1, units: [{ unit: 'backup.service' }] },
      'units.list': {
        units: [
          { unit: 'php8.2-fpm.service', active: 'activating', sub: 'auto-restart' },
          { unit: 'nginx.service', active: 'active', sub: 'running' },
        ],
      },
    });
    expect(findings).toEqual([
      { severity: 'critical', summary: '1 failed: backup.service', probe: 'units.failed' },
      { severity: 'warning', summary: 'starting or restarting: php8.2-fpm.service', probe: 'units.list' },
    ]);
  });

  it('is ok when nothing failed, and explains a step that could not run', () => {
    expect(runbook.evaluate({ 'units.failed': { count: 0, units: [] }, 'units.list': { units: [] } }).map((f) => f.severity)).toEqual([
      'ok',
      'ok',
    ]);
    const findings = runbook.evaluate({
      'units.failed': { error: { message: 'systemctl: systemd is not the init system (PID 1) on this host' } },
      'units.list': { error: 'x' },
    });
    expect(findings[0].summary).toBe('units.failed failed: systemctl: systemd is not the init system (PID 1) on this host');
  });
});
