import { createHostContext } from '@sonde/pack-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { mysqlArgs } from '../src/connection.js';
import { MYSQL, probe, requireMysql, sql, uniqueName } from './server.js';

const canary = uniqueName('sonde_canary');
const PAYLOADS = [
  `'; DROP TABLE test.${canary}; --`,
  '$(id)',
  '`id`',
  '--host=evil',
  "-e 'SELECT 1'",
  `x\nDROP TABLE test.${canary}`,
  'root --init-command=DROP',
  '--defaults-file=/etc/shadow',
  '',
];

describe('mysql: injection attempts are refused or inert', () => {
  beforeAll(async () => {
    await requireMysql();
    await sql(`CREATE TABLE ${canary} (id INT)`);
  });
  afterAll(async () => {
    await sql(`DROP TABLE IF EXISTS ${canary}`).catch(() => undefined);
  });

  it.each(['host', 'user'])('every probe refuses hostile values in %s', async (param) => {
    for (const name of pack.probes.keys()) {
      for (const payload of PAYLOADS) {
        await expect(probe(name, { [param]: payload }), `${name} ${param}=${JSON.stringify(payload)}`).rejects.toMatchObject({
          code: 'SONDE_ERR_INVALID_PARAMS',
        });
      }
    }
  });

  it('numbers and unknown params cannot carry SQL', async () => {
    await expect(probe('processlist', { minSeconds: '0; DROP TABLE x' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('status', { port: '3306 -e DROP' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('status', { database: 'mysql' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
  });

  it('a valid but odd account name reaches the client as one inert argument', async () => {
    await expect(probe('status', { user: 'x-e' })).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      details: { reason: 'auth-failed' },
    });
  });

  it('the host refuses any SQL or option the pack did not declare, even from pack code', async () => {
    const ctx = createHostContext({ permissions: pack.manifest.permissions, signal: new AbortController().signal });
    for (const binary of ['mariadb', 'mysql']) {
      const drop = mysqlArgs(MYSQL, 'status');
      drop[drop.length - 1] = `DROP TABLE test.${canary}`;
      await expect(ctx.exec(binary, drop)).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
      const stacked = mysqlArgs(MYSQL, 'status');
      stacked[stacked.length - 1] = `SHOW GLOBAL STATUS; DROP TABLE test.${canary}`;
      await expect(ctx.exec(binary, stacked)).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
      await expect(ctx.exec(binary, ['--init-command=DROP TABLE x', ...mysqlArgs(MYSQL, 'status').slice(1)])).rejects.toMatchObject({
        code: 'SONDE_ERR_PERMISSION_DENIED',
      });
    }
  });

  it('no SQL ran: the canary table still exists', async () => {
    await probe('status');
    expect(await sql(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='test' AND TABLE_NAME='${canary}'`)).toBe('1');
  });
});
