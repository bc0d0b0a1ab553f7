import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const runbook = pack.runbooks[0];

describe('nginx web runbook', () => {
  it('is ok when the config tests clean, the error log is quiet and 5xx are rare', () => {
    const findings = runbook.evaluate({
      'config.test': { ok: true, syntaxOk: true, errors: 0, messages: [] },
      'error.tail': { countsByLevel: { info: 3 } },
      'access.tail': { parsed: 1000, statusClasses: { '5xx': 2 } },
    });
    expect(findings.map((f) => f.severity)).toEqual(['ok', 'ok', 'ok']);
  });

  it('flags an invalid config and a 5xx burst as critical, errors as warning', () => {
    const findings = runbook.evaluate({
      'config.test': {
        ok: false,
        syntaxOk: false,
        errors: 1,
        messages: [{ message: 'unknown directive "x"', file: '/etc/nginx/nginx.conf', line: 4 }],
      },
      'error.tail': { countsByLevel: { error: 7 } },
      'access.tail': { parsed: 100, statusClasses: { '5xx': 9 } },
    });
    expect(findings).toEqual([
      { severity: 'critical', summary: 'configuration invalid: unknown directive "x" (/etc/nginx/nginx.conf:4)', probe: 'config.test' },
      { severity: 'warning', summary: '7 error entries in the recent error log', probe: 'error.tail' },
      { severity: 'critical', summary: '9% of the last 100 requests answered 5xx', probe: 'access.tail' },
    ]);
  });

  it('reports a failed step as a warning with its reason', () => {
    const findings = runbook.evaluate({ 'config.test': { error: { message: 'nginx is not installed' } } });
    expect(findings[0]).toEqual({ severity: 'warning', summary: 'config.test failed: nginx is not installed', probe: 'config.test' });
  });
});
