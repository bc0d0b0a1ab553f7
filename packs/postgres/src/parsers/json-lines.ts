import { SondeError } from '@sonde/pack-sdk';

/**
 * psql -A -t prints one line per statement here: a jsonb value, or an empty
 * line when json(b)_agg saw no rows (SQL NULL). Anything else means the
 * output is not what the fixed SQL produces, so it is refused, not guessed at.
 */
export function parseJsonLines(stdout: string, expected: number): unknown[] {
  const lines = stdout.replace(/\n$/, '').split('\n');
  if (lines.length !== expected) {
    throw new SondeError('SONDE_ERR_PROBE_FAILED', `psql returned ${lines.length} result lines, expected ${expected}`);
  }
  return lines.map((line, index) => {
    if (line.trim() === '') return null;
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw new SondeError('SONDE_ERR_PROBE_FAILED', `psql result ${index + 1} is not JSON`);
    }
  });
}
