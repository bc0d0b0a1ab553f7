import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface ConfigResult {
  ok: boolean;
  syntaxOk: boolean;
  errors: number;
  messages: Array<{ message: string; file: string | null; line: number | null }>;
}
interface ErrorTailResult {
  countsByLevel: Record<string, number>;
}
interface AccessResult {
  parsed: number;
  statusClasses: { '5xx': number };
}

function stepError(results: Record<string, unknown>, probe: string): Finding | undefined {
  const value = results[probe];
  if (value === undefined) return { severity: 'warning', summary: `${probe} returned nothing`, probe };
  if (typeof value === 'object' && value !== null && 'error' in value) {
    const error = (value as { error: { message?: string } | string }).error;
    return {
      severity: 'warning',
      summary: `${probe} failed: ${typeof error === 'string' ? error : (error.message ?? 'unknown error')}`.slice(0, 300),
      probe,
    };
  }
  return undefined;
}

export function evaluateConfig(result: ConfigResult): Finding {
  if (result.ok) return { severity: 'ok', summary: 'nginx -t: configuration test is successful', probe: 'config.test' };
  const first = result.messages[0];
  const where = first?.file ? ` (${first.file}:${first.line})` : '';
  if (result.syntaxOk) {
    return {
      severity: 'warning',
      summary: `syntax ok but the test failed: ${first?.message ?? 'unknown reason'}${where}`.slice(0, 300),
      probe: 'config.test',
    };
  }
  return {
    severity: 'critical',
    summary: `configuration invalid: ${first?.message ?? 'unknown error'}${where}`.slice(0, 300),
    probe: 'config.test',
  };
}

export function evaluateErrors(result: ErrorTailResult): Finding {
  const c = result.countsByLevel;
  const severe = (c.crit ?? 0) + (c.alert ?? 0) + (c.emerg ?? 0);
  const errors = c.error ?? 0;
  if (severe > 0)
    return { severity: 'critical', summary: `${severe} crit/alert/emerg entries in the recent error log`, probe: 'error.tail' };
  if (errors > 0) return { severity: 'warning', summary: `${errors} error entries in the recent error log`, probe: 'error.tail' };
  return { severity: 'ok', summary: 'no errors in the recent error log', probe: 'error.tail' };
}

export function evaluateAccess(result: AccessResult): Finding {
  if (result.parsed === 0) return { severity: 'ok', summary: 'no recent requests in the access log', probe: 'access.tail' };
  const ratio = result.statusClasses['5xx'] / result.parsed;
  const pct = Math.round(ratio * 1000) / 10;
  const severity = ratio >= 0.05 ? 'critical' : ratio >= 0.01 ? 'warning' : 'ok';
  return { severity, summary: `${pct}% of the last ${result.parsed} requests answered 5xx`, probe: 'access.tail' };
}

export const healthRunbook: RunbookDefinition = {
  category: 'web',
  description: 'Is nginx healthy? Config test, severe entries in the error log and the share of 5xx answers in recent requests.',
  steps: [
    { probe: 'config.test' },
    { probe: 'error.tail', params: { minLevel: 'error', lines: 500 } },
    { probe: 'access.tail', params: { lines: 1000, includeEntries: false } },
  ],
  evaluate(results) {
    return [
      stepError(results, 'config.test') ?? evaluateConfig(results['config.test'] as ConfigResult),
      stepError(results, 'error.tail') ?? evaluateErrors(results['error.tail'] as ErrorTailResult),
      stepError(results, 'access.tail') ?? evaluateAccess(results['access.tail'] as AccessResult),
    ];
  },
};
