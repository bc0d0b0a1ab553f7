import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, redis } from '../connection.js';
import { ClientsResultSchema, parseClientList, summarizeClients } from '../parsers/clients.js';

export const clientsList = defineProbe({
  name: 'clients.list',
  description:
    'Connected clients (CLIENT LIST) with address, user, db, age, idle time, flags and last command; counts by user and address.',
  params: ConnectionParamsSchema,
  result: ClientsResultSchema,
  timeoutMs: 10_000,
  async handler(params, ctx) {
    return summarizeClients(parseClientList(await redis(ctx, params, ['CLIENT', 'LIST'])));
  },
});
