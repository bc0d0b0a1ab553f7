import { z } from 'zod';

export const ClientSchema = z.object({
  id: z.number().int(),
  addr: z.string(),
  name: z.string().nullable(),
  user: z.string().nullable(),
  db: z.number().int().nullable(),
  ageSeconds: z.number().int().nullable(),
  idleSeconds: z.number().int().nullable(),
  flags: z.string().nullable().describe('N normal, S replica, M master, b blocked, x in MULTI, P pubsub, …'),
  lastCommand: z.string().nullable(),
  totalMemoryBytes: z.number().int().nullable(),
  outputListLength: z.number().int().nullable(),
});
export type Client = z.infer<typeof ClientSchema>;

export const ClientsResultSchema = z.object({
  total: z.number().int().nonnegative(),
  blocked: z.number().int().nonnegative().describe('Clients waiting in a blocking command (flag b).'),
  byUser: z.record(z.string(), z.number().int()),
  byAddress: z.record(z.string(), z.number().int()).describe('Connections per client IP.'),
  oldestIdle: ClientSchema.nullable(),
  clients: z.array(ClientSchema),
});
export type ClientsResult = z.infer<typeof ClientsResultSchema>;

function field(fields: Map<string, string>, key: string): string | null {
  const value = fields.get(key);
  return value === undefined || value === '' ? null : value;
}

function int(fields: Map<string, string>, key: string): number | null {
  const value = field(fields, key);
  return value !== null && /^-?\d+$/.test(value) ? Number(value) : null;
}

/** CLIENT LIST: one client per line, space-separated key=value pairs (names cannot contain spaces). */
export function parseClientList(text: string): Client[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, '').trim())
    .filter((line) => line.startsWith('id='))
    .map((line) => {
      const fields = new Map<string, string>();
      for (const pair of line.split(' ')) {
        const eq = pair.indexOf('=');
        if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      return {
        id: int(fields, 'id') ?? -1,
        addr: field(fields, 'addr') ?? '',
        name: field(fields, 'name'),
        user: field(fields, 'user'),
        db: int(fields, 'db'),
        ageSeconds: int(fields, 'age'),
        idleSeconds: int(fields, 'idle'),
        flags: field(fields, 'flags'),
        lastCommand: field(fields, 'cmd'),
        totalMemoryBytes: int(fields, 'tot-mem'),
        outputListLength: int(fields, 'oll'),
      };
    });
}

export function summarizeClients(clients: Client[]): ClientsResult {
  const byUser: Record<string, number> = {};
  const byAddress: Record<string, number> = {};
  for (const client of clients) {
    const user = client.user ?? '(none)';
    byUser[user] = (byUser[user] ?? 0) + 1;
    const ip = client.addr.replace(/:\d+$/, '');
    byAddress[ip] = (byAddress[ip] ?? 0) + 1;
  }
  const oldestIdle = clients.reduce<Client | null>((best, c) => ((c.idleSeconds ?? -1) > (best?.idleSeconds ?? -1) ? c : best), null);
  return {
    total: clients.length,
    blocked: clients.filter((c) => c.flags?.includes('b')).length,
    byUser,
    byAddress,
    oldestIdle,
    clients,
  };
}
