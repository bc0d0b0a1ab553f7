import { createHostContext } from '@sonde/pack-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { redisArgs } from '../src/connection.js';
import { cli, probe, REDIS, requireRedis, uniqueName } from './server.js';

const canary = uniqueName('sonde:canary');
const PAYLOADS = ['$(id)', '`id`', '--host=evil', "-e 'SELECT 1'", `x\nFLUSHALL`, 'a b', "'; DEL x; --", '-h', '', 'evil;FLUSHALL'];

describe('redis: injection attempts are refused or inert', () => {
  beforeAll(async () => {
    await requireRedis();
    await cli('-n', '11', 'SET', canary, 'alive');
  });
  afterAll(async () => {
    await cli('-n', '11', 'DEL', canary).catch(() => undefined);
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

  it('enums and numbers cannot carry commands', async () => {
    await expect(probe('info', { section: 'keyspace\nFLUSHALL' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('info', { section: 'everything' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('slowlog', { count: '5 FLUSHALL' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('slowlog', { count: 100000 })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
    await expect(probe('keyspace', { command: 'FLUSHALL' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
  });

  it('the host refuses any command the pack did not declare, even from pack code', async () => {
    const ctx = createHostContext({ permissions: pack.manifest.permissions, signal: new AbortController().signal });
    for (const command of [
      ['FLUSHALL'],
      ['DEL', canary],
      ['CONFIG', 'SET', 'save', ''],
      ['INFO', 'keyspace', 'FLUSHALL'],
      ['SLOWLOG', 'RESET'],
    ]) {
      await expect(ctx.exec('redis-cli', redisArgs(REDIS, command)), command.join(' ')).rejects.toMatchObject({
        code: 'SONDE_ERR_PERMISSION_DENIED',
      });
    }
    await expect(ctx.exec('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '--json', 'SLOWLOG', 'GET', '-1'])).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
  });

  it('a valid but odd ACL user name reaches redis-cli as one inert argument', async () => {
    // Without REDISCLI_AUTH redis-cli sends no AUTH, so the name is only data; the probe still works as the default user.
    const result = await probe('keyspace', { user: 'x-n' });
    expect(result.totalKeys).toBeGreaterThanOrEqual(1);
  });

  it('nothing ran: the canary key is still there', async () => {
    expect(await cli('-n', '11', 'GET', canary)).toBe('alive');
  });
});
