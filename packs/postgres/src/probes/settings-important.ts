import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, queryJson } from '../connection.js';
import { SettingsResultSchema, parseSettings } from '../parsers/settings.js';

export const settingsImportant = defineProbe({
  name: 'settings.important',
  description:
    'The settings that matter when diagnosing: memory (shared_buffers, work_mem, … also in bytes), connections, WAL, autovacuum, timeouts, logging, with their source.',
  params: ConnectionParamsSchema,
  result: SettingsResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const [first, second] = await queryJson(ctx, params, 'settings');
    return parseSettings(first, second);
  },
});
