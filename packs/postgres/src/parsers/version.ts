import { z } from 'zod';

const VersionRowSchema = z.object({ version: z.string(), num: z.number().int(), started: z.string(), uptime_s: z.number() });

export const VersionResultSchema = z.object({
  version: z.string().describe('version() text.'),
  versionNum: z.number().int().describe('server_version_num, e.g. 150020.'),
  major: z.number().int(),
  startedAt: z.string(),
  uptimeSeconds: z.number().nonnegative(),
});
export type VersionResult = z.infer<typeof VersionResultSchema>;

export function parseVersion(value: unknown): VersionResult {
  const row = VersionRowSchema.parse(value);
  return {
    version: row.version,
    versionNum: row.num,
    major: Math.floor(row.num / 10000),
    startedAt: new Date(row.started).toISOString(),
    uptimeSeconds: Math.round(row.uptime_s),
  };
}
