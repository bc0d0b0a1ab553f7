import { createHostContext, runProbe } from '@sonde/pack-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { psqlArgs } from '../src/connection.js';
import { PG, probe, psql, requirePostgres, uniqueName } from './server.js';

const canary = uniqueName('sonde_canary');
const PAYLOADS = [
  `'; DROP TABLE ${canary}; --`,
  '$(id)',
  '`id`',
  '--host=evil',
  "-e 'SELECT 1'",
  `x\nDROP TABLE ${canary}`,
  'host=evil.example dbname=test',
  'postgresql://evil.example/test',
  'test -c drop',
  '',
];
const STRING_PARAMS = ['host', 'user', 'database'] as const;

describe('postgres: injection attempts are refused or inert', () => {
  beforeAll(async () => {
    await requirePostgres();
    await psql(`create table ${canary}(id int)`);
  });
  afterAll(async () => {
    await psql(`drop table if exists ${canary}`).catch(() => undefined);
  });

  const probes = [...pack.probes.keys()];
  it.each(STRING_PARAMS)('every probe refuses hostile values in %s before running anything', async (param) => {
    for (const name of probes) {
      for (const payload of PAYLOADS) {
        await expect(probe(name, { [param]: payload }), `${name} ${param}=${JSON.stringify(payload)}`).rejects.toMatchObject({
          code: 'SONDE_ERR_INVALID_PARAMS',
        });
      }
    }
  });

  it('numbers and unknown params cannot carry text', async () => {
    await expect(probe('version', { port: '5432; DROP TABLE x' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('queries.slow', { minSeconds: '1 or 1=1' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('version', { sql: 'drop table x' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('version', { socket: '/tmp/evil' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
  });

  it('a valid but odd role name reaches psql as one inert argument', async () => {
    // "a-c" passes the identifier rule; psql receives it as the value of -U, not as an option.
    await expect(probe('version', { user: 'sonde_x-c' })).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      details: { reason: 'auth-failed' },
    });
  });

  it('the host refuses any SQL other than the pack’s fixed statements, even from pack code', async () => {
    const ctx = createHostContext({ permissions: pack.manifest.permissions, signal: new AbortController().signal });
    const args = psqlArgs(PG, 'version');
    args[args.length - 1] = `drop table ${canary}`;
    await expect(ctx.exec('psql', args)).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
    const extra = [...psqlArgs(PG, 'version'), '-c', `drop table ${canary}`];
    await expect(ctx.exec('psql', extra)).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
    const optionAsDb = psqlArgs(PG, 'version').map((a) => (a === 'test' ? '--command=drop' : a));
    await expect(ctx.exec('psql', optionAsDb)).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
  });

  it('no SQL ran: the canary table still exists', async () => {
    await runProbe(pack, 'databases.list', PG, (signal) => createHostContext({ permissions: pack.manifest.permissions, signal }));
    expect(await psql(`select count(*) from pg_tables where tablename = '${canary}'`)).toBe('1');
  });
});
