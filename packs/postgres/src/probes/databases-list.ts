import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, queryJson } from '../connection.js';
import { DatabasesResultSchema, parseDatabases } from '../parsers/databases.js';

export const databasesList = defineProbe({
  name: 'databases.list',
  description: 'Lists every database with its size in bytes, whether it accepts connections and whether it is a template.',
  params: ConnectionParamsSchema,
  result: DatabasesResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const [rows] = await queryJson(ctx, params, 'databases');
    return parseDatabases(rows);
  },
});
