/** Parsers for the human-readable sizes and percentages the docker CLI prints. */

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** `7.527MiB` → bytes, `1.09kB` → bytes; null when unreadable. */
export function parseSize(text: string): number | null {
  const m = /^\s*([\d.]+)\s*([kKmMgGtT]?i?[bB])\s*$/.exec(text);
  if (!m) return null;
  const factor = UNITS[m[2].toLowerCase()];
  return factor === undefined ? null : Math.round(Number(m[1]) * factor);
}

/** `12.5%` → 12.5; `--` (not running) → null. */
export function parsePercent(text: string): number | null {
  const m = /^\s*([\d.]+)%\s*$/.exec(text);
  return m ? Number(m[1]) : null;
}

/** `a / b` pairs such as MemUsage, NetIO and BlockIO. */
export function parsePair(text: string): [number | null, number | null] {
  const [left = '', right = ''] = text.split('/');
  return [parseSize(left), parseSize(right)];
}

/** `k=v,k2=v2` label strings from `docker ps`. Values may contain `=`. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

export function splitList(text: string): string[] {
  return text
    ? text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

export function jsonLines(output: string): { records: Array<Record<string, unknown>>; unparsed: number } {
  const records: Array<Record<string, unknown>> = [];
  let unparsed = 0;
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value)) records.push(value as Record<string, unknown>);
      else unparsed += 1;
    } catch {
      unparsed += 1;
    }
  }
  return { records, unparsed };
}

export const str = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
