import { ARG_PLACEHOLDERS, SondeError, type ProbeContext } from '@sonde/pack-sdk';
import { z } from 'zod';
import { classifyRedisFailure } from './parsers/reply.js';

export const ConnectionParamsSchema = z
  .object({
    host: z.string().regex(ARG_PLACEHOLDERS['<host>'], 'host is a host name or an IP address').default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(6379),
    user: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/, 'user is an ACL user name: letters, digits, _ and -')
      .optional()
      .describe('ACL user; its password comes from REDISCLI_AUTH in the agent environment, never from a parameter.'),
  })
  .strict();

export type ConnectionParams = z.infer<typeof ConnectionParamsSchema>;

export const INFO_SECTIONS = [
  'default',
  'all',
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'cpu',
  'commandstats',
  'errorstats',
  'keyspace',
] as const;
export type InfoSection = (typeof INFO_SECTIONS)[number];

/**
 * The Redis commands this pack sends, as argv tails. Only SLOWLOG GET takes a
 * value, a bounded count; everything else is literal, so the manifest lists
 * each command exactly (no CONFIG, KEYS, DEBUG or anything that writes).
 */
export const COMMANDS: string[][] = [
  ...INFO_SECTIONS.map((section) => ['INFO', section]),
  ['MEMORY', 'STATS'],
  ['SLOWLOG', 'GET', '<uint>'],
  ['SLOWLOG', 'LEN'],
  ['CLIENT', 'LIST'],
  ['LATENCY', 'LATEST'],
];

/** --json: replies as JSON (RESP3), so arrays and maps parse without scraping redis-cli's display format. */
export function redisArgs(connection: ConnectionParams, command: readonly string[]): string[] {
  const target = ['-h', connection.host, '-p', String(connection.port)];
  if (connection.user !== undefined) target.push('--user', connection.user);
  return [...target, '--json', ...command];
}

export function redisShapes(): string[][] {
  return COMMANDS.flatMap((command) => [
    ['-h', '<host>', '-p', '<uint>', '--json', ...command],
    ['-h', '<host>', '-p', '<uint>', '--user', '<name>', '--json', ...command],
  ]);
}

/**
 * Runs one command and returns redis-cli's stdout. redis-cli exits 0 on an
 * error reply (it prints `error:"…"`) and goes on as the default user when
 * AUTH fails, so both are detected here and raised as a coded failure.
 */
export async function redis(ctx: ProbeContext, connection: ConnectionParams, command: readonly string[]): Promise<string> {
  const run = await ctx.exec('redis-cli', redisArgs(connection, command), { okExitCodes: [0, 1] });
  const failure = classifyRedisFailure(run.stdout, run.stderr, run.exitCode);
  if (failure) {
    throw new SondeError('SONDE_ERR_COMMAND_FAILED', `redis at ${connection.host}:${connection.port}: ${failure.message}`, {
      reason: failure.reason,
      exitCode: run.exitCode,
    });
  }
  if (run.truncated) throw new SondeError('SONDE_ERR_OUTPUT_LIMIT', `redis ${command[0]}: the answer exceeded the output limit`);
  return run.stdout;
}
