import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, query } from '../connection.js';
import { VariablesResultSchema, parseVariables } from '../parsers/variables.js';

export const variablesImportant = defineProbe({
  name: 'variables.important',
  description:
    'The server variables that matter when diagnosing: version, connection limits, InnoDB buffer pool and durability, binary log, read_only, slow log, caches, SQL mode.',
  params: ConnectionParamsSchema,
  result: VariablesResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    return parseVariables(await query(ctx, params, 'variables'));
  },
});
