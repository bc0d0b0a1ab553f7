import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, query } from '../connection.js';
import { DatabasesResultSchema, parseDatabases } from '../parsers/databases.js';

export const databasesList = defineProbe({
  name: 'databases.list',
  description: 'Every schema the account can see, with table count and data+index size in bytes; system schemas are marked.',
  params: ConnectionParamsSchema,
  result: DatabasesResultSchema,
  timeoutMs: 20_000,
  async handler(params, ctx) {
    return parseDatabases(await query(ctx, params, 'databases'));
  },
});
