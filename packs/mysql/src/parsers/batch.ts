export type Row = Record<string, string | null>;

export interface BatchResult {
  columns: string[];
  rows: Row[];
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', '0': '\0', r: '\r', b: '\b', Z: '\x1a' };

/** --batch escapes tab, newline, backslash and NUL inside values; undo that. */
export function unescapeValue(value: string): string {
  return value.replace(/\\(.)/g, (whole, char: string) => ESCAPES[char] ?? whole);
}

/**
 * Parses `mysql --batch` output: a header line of column names, then one
 * tab-separated line per row. `NULL` is SQL NULL (batch mode cannot tell it
 * from the string "NULL"). An empty output means an empty result set without
 * a header, which is how SHOW REPLICA STATUS says "not a replica".
 */
export function parseBatch(stdout: string): BatchResult {
  const lines = stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) return { columns: [], rows: [] };
  const columns = lines[0].split('\t').map(unescapeValue);
  const rows = lines.slice(1).map((line) => {
    const cells = line.split('\t');
    const row: Row = {};
    columns.forEach((column, i) => {
      const cell = cells[i];
      row[column] = cell === undefined || cell === 'NULL' ? null : unescapeValue(cell);
    });
    return row;
  });
  return { columns, rows };
}

/** SHOW GLOBAL STATUS / VARIABLES: two columns, name and value. */
export function nameValueMap(result: BatchResult): Map<string, string | null> {
  const [name, value] = result.columns;
  const map = new Map<string, string | null>();
  if (!name || !value) return map;
  for (const row of result.rows) map.set(String(row[name]), row[value] ?? null);
  return map;
}

export function toNumber(value: string | null | undefined): number | null {
  return value !== null && value !== undefined && /^-?\d+(?:\.\d+)?$/.test(value) ? Number(value) : null;
}
