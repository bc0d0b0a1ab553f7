import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const runbook = pack.runbooks[0];

describe('docker containers runbook', () => {
  it('flags unhealthy and restarting containers as critical', () => {
    const findings = runbook.evaluate({
      'daemon.info': { serverVersion: '28.2.2', warnings: [] },
      'containers.list': {
        containers: [
          { names: ['web'], state: 'running', health: 'healthy', exitCode: null, status: 'Up' },
          { names: ['api'], state: 'running', health: 'unhealthy', exitCode: null, status: 'Up' },
          { names: ['worker'], state: 'restarting', health: null, exitCode: null, status: 'Restarting (1)' },
        ],
      },
    });
    expect(findings).toEqual([
      { severity: 'ok', summary: 'docker 28.2.2 daemon reachable, no warnings', probe: 'daemon.info' },
      { severity: 'critical', summary: 'unhealthy or restarting containers: api, worker', probe: 'containers.list' },
    ]);
  });

  it('warns about crashed containers and daemon warnings; ok otherwise', () => {
    const findings = runbook.evaluate({
      'daemon.info': { serverVersion: '28.2.2', warnings: ['WARNING: bridge-nf-call-iptables is disabled'] },
      'containers.list': { containers: [{ names: ['cron'], state: 'exited', health: null, exitCode: 137, status: 'Exited (137)' }] },
    });
    expect(findings.map((f) => f.severity)).toEqual(['warning', 'warning']);
    expect(findings[1].summary).toBe('exited with a non-zero code: cron (137)');
    const quiet = runbook.evaluate({ 'daemon.info': { serverVersion: '28.2.2', warnings: [] }, 'containers.list': { containers: [] } });
    expect(quiet.map((f) => f.severity)).toEqual(['ok', 'ok']);
  });

  it('a stopped daemon is critical', () => {
    const message = 'the Docker daemon is not running or not reachable at unix:///var/run/docker.sock';
    const findings = runbook.evaluate({
      'daemon.info': { error: { code: 'SONDE_ERR_COMMAND_FAILED', message } },
      'containers.list': { error: { message } },
    });
    expect(findings[0]).toEqual({ severity: 'critical', summary: `daemon.info failed: ${message}`, probe: 'daemon.info' });
  });
});
