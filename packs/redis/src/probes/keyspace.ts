import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, redis } from '../connection.js';
import { KeyspaceResultSchema, parseInfo, parseKeyspace } from '../parsers/info.js';

export const keyspace = defineProbe({
  name: 'keyspace',
  description: 'Keys, keys with a TTL and average TTL per database (INFO keyspace), total keys and the keyspace hit rate.',
  params: ConnectionParamsSchema,
  result: KeyspaceResultSchema,
  timeoutMs: 10_000,
  async handler(params, ctx) {
    const keyspaceInfo = parseInfo(await redis(ctx, params, ['INFO', 'keyspace']));
    const stats = parseInfo(await redis(ctx, params, ['INFO', 'stats']));
    return parseKeyspace(keyspaceInfo, stats);
  },
});
