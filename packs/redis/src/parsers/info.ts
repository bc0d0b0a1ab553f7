import { z } from 'zod';

export const InfoValueSchema = z.union([z.string(), z.number(), z.record(z.string(), z.union([z.string(), z.number()]))]);
export const InfoSectionsSchema = z.record(z.string(), z.record(z.string(), InfoValueSchema));
export type InfoSections = z.infer<typeof InfoSectionsSchema>;

const NUMBER = /^-?\d+(?:\.\d+)?$/;

function scalar(value: string): string | number {
  return NUMBER.test(value) && value.length < 16 ? Number(value) : value;
}

/** `keys=1,expires=0,avg_ttl=0` and similar nested values become objects. */
function value(raw: string): z.infer<typeof InfoValueSchema> {
  if (/^[a-z_]+=[^,]*(?:,[a-z_]+=[^,]*)+$/.test(raw)) {
    return Object.fromEntries(raw.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), scalar(pair.slice(pair.indexOf('=') + 1))]));
  }
  return scalar(raw);
}

/**
 * Parses INFO text: `# Section` headers, then `key:value` lines. Section names
 * are lowercased; numeric values become numbers.
 */
export function parseInfo(text: string): InfoSections {
  const sections: InfoSections = {};
  let current: Record<string, z.infer<typeof InfoValueSchema>> | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.startsWith('# ')) {
      current = {};
      sections[line.slice(2).trim().toLowerCase()] = current;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !current) continue;
    current[line.slice(0, colon)] = value(line.slice(colon + 1));
  }
  return sections;
}

export function num(sections: InfoSections, section: string, key: string): number | null {
  const found = sections[section]?.[key];
  return typeof found === 'number' ? found : null;
}

export function str(sections: InfoSections, section: string, key: string): string | null {
  const found = sections[section]?.[key];
  return found === undefined || typeof found === 'object' ? null : String(found);
}

export const KeyspaceResultSchema = z.object({
  databases: z.array(
    z.object({
      db: z.number().int().nonnegative(),
      keys: z.number().int().nonnegative(),
      expires: z.number().int().nonnegative(),
      avgTtlMs: z.number().int().nonnegative(),
    }),
  ),
  totalKeys: z.number().int().nonnegative(),
  hitRate: z.number().nullable().describe('keyspace_hits / (hits + misses) since start; null before any lookup.'),
});
export type KeyspaceResult = z.infer<typeof KeyspaceResultSchema>;

export function parseKeyspace(sections: InfoSections, stats?: InfoSections): KeyspaceResult {
  const databases = Object.entries(sections.keyspace ?? {})
    .filter(([name, v]) => /^db\d+$/.test(name) && typeof v === 'object')
    .map(([name, v]) => {
      const entry = v as Record<string, string | number>;
      return {
        db: Number(name.slice(2)),
        keys: Number(entry.keys ?? 0),
        expires: Number(entry.expires ?? 0),
        avgTtlMs: Number(entry.avg_ttl ?? 0),
      };
    })
    .sort((a, b) => a.db - b.db);
  const hits = stats ? num(stats, 'stats', 'keyspace_hits') : null;
  const misses = stats ? num(stats, 'stats', 'keyspace_misses') : null;
  const hitRate = hits !== null && misses !== null && hits + misses > 0 ? Math.round((hits / (hits + misses)) * 10000) / 10000 : null;
  return { databases, totalKeys: databases.reduce((sum, db) => sum + db.keys, 0), hitRate };
}
