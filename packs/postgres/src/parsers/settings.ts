import { z } from 'zod';

const SettingRowSchema = z.object({ name: z.string(), setting: z.string().nullable(), unit: z.string().nullable(), source: z.string() });

export const SettingsResultSchema = z.object({
  settings: z.array(
    z.object({
      name: z.string(),
      value: z.string().nullable().describe('pg_settings.setting, in the setting unit.'),
      unit: z.string().nullable(),
      source: z.string(),
      bytes: z.number().nullable().describe('For memory settings: the value in bytes.'),
    }),
  ),
});
export type SettingsResult = z.infer<typeof SettingsResultSchema>;

const UNIT_BYTES: Record<string, number> = { B: 1, kB: 1024, '8kB': 8192, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** Memory settings are stored in units such as 8kB pages; give bytes so callers need not know that. */
export function settingBytes(value: string | null, unit: string | null): number | null {
  if (value === null || unit === null || !(unit in UNIT_BYTES) || !/^-?\d+$/.test(value)) return null;
  const n = Number(value);
  return n < 0 ? null : n * UNIT_BYTES[unit];
}

export function parseSettings(...values: unknown[]): SettingsResult {
  const rows = values.flatMap((value) => z.array(SettingRowSchema).parse(value ?? []));
  const settings = rows
    .map((row) => ({ name: row.name, value: row.setting, unit: row.unit, source: row.source, bytes: settingBytes(row.setting, row.unit) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { settings };
}
