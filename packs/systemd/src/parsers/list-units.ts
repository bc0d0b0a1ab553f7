/** Parser for `systemctl list-units --all --plain --no-legend --full`. */

export interface UnitRow {
  unit: string;
  load: string;
  active: string;
  sub: string;
  description: string;
}

export function parseListUnits(output: string): UnitRow[] {
  const rows: UnitRow[] = [];
  for (const raw of output.split('\n')) {
    // Failed and not-found units carry a "●" marker even in --plain mode.
    const line = raw.replace(/^[\s●*]+/, '');
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line.trimEnd());
    if (!m) continue;
    rows.push({ unit: m[1], load: m[2], active: m[3], sub: m[4], description: m[5] ?? '' });
  }
  return rows;
}

/** The JSON table `systemctl list-units --output=json` prints on newer systemd. */
export function parseListUnitsJson(output: string): UnitRow[] {
  const data = JSON.parse(output) as Array<Record<string, unknown>>;
  if (!Array.isArray(data)) throw new Error('systemctl did not return a JSON array');
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  return data.map((row) => ({
    unit: s(row.unit),
    load: s(row.load),
    active: s(row.active),
    sub: s(row.sub),
    description: s(row.description),
  }));
}
