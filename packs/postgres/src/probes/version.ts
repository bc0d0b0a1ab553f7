import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, queryJson } from '../connection.js';
import { VersionResultSchema, parseVersion } from '../parsers/version.js';

export const version = defineProbe({
  name: 'version',
  description: 'Server version (text, number and major), start time and uptime.',
  params: ConnectionParamsSchema,
  result: VersionResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const [row] = await queryJson(ctx, params, 'version');
    return parseVersion(row);
  },
});
