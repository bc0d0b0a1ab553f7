import { defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { openSession, readCollection, Ref } from '../api.js';

/** SessionResponseModel fields this pack reads (GET /cvad/manage/Sessions). */
const RawSession = z.object({
  Id: z.string(),
  State: z.string().default('Unknown'),
  StartTime: z.string().nullish(),
  StateChangeTime: z.string().nullish(),
  SessionType: z.string().nullish(),
  Protocol: z.string().nullish(),
  Machine: Ref,
  DeliveryGroup: Ref,
  User: z.object({ SamName: z.string().nullish(), PrincipalName: z.string().nullish(), Name: z.string().nullish() }).nullish(),
});

export const sessionsSummary = defineProbe({
  name: 'sessions.summary',
  description:
    'Sessions of the site counted by state (Active, Disconnected, ...), by delivery group and by protocol; the machines with most sessions; disconnected sessions older than `disconnectedHours`. No user names unless includeUsers.',
  params: z.strictObject({
    disconnectedHours: z.number().int().min(1).max(720).default(8),
    includeUsers: z.boolean().default(false).describe('Add user names to the long-disconnected list.'),
    top: z.number().int().min(1).max(50).default(10),
  }),
  result: z.object({
    site: z.object({ id: z.string(), name: z.string().nullable() }),
    total: z.number().int(),
    byState: z.record(z.string(), z.number().int()),
    byDeliveryGroup: z.record(z.string(), z.number().int()),
    byProtocol: z.record(z.string(), z.number().int()),
    busiestMachines: z.array(z.object({ machine: z.string(), sessions: z.number().int() })),
    longDisconnected: z.array(
      z.object({
        machine: z.string().nullable(),
        deliveryGroup: z.string().nullable(),
        since: z.string().nullable(),
        user: z.string().nullable(),
      }),
    ),
    truncated: z.boolean(),
  }),
  timeoutMs: 45_000,
  maxOutputBytes: 2 * 1024 * 1024,
  openWorld: true,
  async handler(params, ctx) {
    const session = await openSession(ctx);
    const { items, complete } = await readCollection(ctx, session, '/cvad/manage/Sessions', 1000);
    const sessions = items.map((item) => expectShape(RawSession, item, 'Citrix DaaS session'));
    const count = (key: (s: (typeof sessions)[number]) => string | null | undefined): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const s of sessions) {
        const k = key(s) ?? 'unknown';
        out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    };
    const perMachine = count((s) => s.Machine?.Name);
    const cutoff = Date.now() - params.disconnectedHours * 3600_000;
    const longDisconnected = sessions
      .filter((s) => s.State === 'Disconnected')
      .filter((s) => {
        const since = Date.parse(s.StateChangeTime ?? s.StartTime ?? '');
        return Number.isFinite(since) && since < cutoff;
      })
      .map((s) => ({
        machine: s.Machine?.Name ?? null,
        deliveryGroup: s.DeliveryGroup?.Name ?? null,
        since: s.StateChangeTime ?? s.StartTime ?? null,
        user: params.includeUsers ? (s.User?.SamName ?? s.User?.PrincipalName ?? s.User?.Name ?? null) : null,
      }))
      .sort((a, b) => (a.since ?? '').localeCompare(b.since ?? ''));
    return {
      site: { id: session.siteId, name: session.siteName },
      total: sessions.length,
      byState: count((s) => s.State),
      byDeliveryGroup: count((s) => s.DeliveryGroup?.Name),
      byProtocol: count((s) => s.Protocol),
      busiestMachines: Object.entries(perMachine)
        .map(([machine, n]) => ({ machine, sessions: n }))
        .sort((a, b) => b.sessions - a.sessions || a.machine.localeCompare(b.machine))
        .slice(0, params.top),
      longDisconnected: longDisconnected.slice(0, params.top),
      truncated: !complete,
    };
  },
});
