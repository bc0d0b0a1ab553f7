import { ARG_PLACEHOLDERS, SondeError, isSondeError, type ProbeContext } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseBatch, type BatchResult } from './parsers/batch.js';
import { classifyMysqlError } from './parsers/client-error.js';
import { SQL, type SqlName } from './sql.js';

export const ConnectionParamsSchema = z
  .object({
    host: z
      .string()
      .regex(ARG_PLACEHOLDERS['<host>'], 'host is a host name or an IP address')
      .default('127.0.0.1')
      .describe('"localhost" means the default Unix socket; anything else is TCP.'),
    port: z.number().int().min(1).max(65535).default(3306),
    user: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$/, 'user is an account name: letters, digits, _, . and -')
      .optional()
      .describe("Default: the client's default, the agent's OS user name."),
  })
  .strict();

export type ConnectionParams = z.infer<typeof ConnectionParamsSchema>;

/** MariaDB installs `mariadb`; MySQL and older MariaDB only `mysql`. Same options for both. */
export const CLIENTS = ['mariadb', 'mysql'] as const;

/** --batch: tab-separated with a header row, special characters escaped; no password prompt is ever possible (no -p). */
const FIXED_FLAGS = ['--batch', '--connect-timeout=5'] as const;

export function mysqlArgs(connection: ConnectionParams, sql: SqlName): string[] {
  const target = ['-h', connection.host, '-P', String(connection.port)];
  if (connection.user !== undefined) target.push('-u', connection.user);
  return [...FIXED_FLAGS, ...target, '-e', SQL[sql]];
}

export function mysqlShapes(): string[][] {
  return (Object.keys(SQL) as SqlName[]).flatMap((name) => [
    [...FIXED_FLAGS, '-h', '<host>', '-P', '<uint>', '-e', SQL[name]],
    [...FIXED_FLAGS, '-h', '<host>', '-P', '<uint>', '-u', '<name>', '-e', SQL[name]],
  ]);
}

/**
 * Runs one fixed statement with whichever client is installed and parses the
 * batch output. Client errors become SONDE_ERR_COMMAND_FAILED with a stable
 * `reason` and the server's error number.
 */
export async function query(ctx: ProbeContext, connection: ConnectionParams, sql: SqlName): Promise<BatchResult> {
  const args = mysqlArgs(connection, sql);
  for (const [index, client] of CLIENTS.entries()) {
    let run;
    try {
      run = await ctx.exec(client, args, { okExitCodes: [0, 1] });
    } catch (error) {
      if (isSondeError(error) && error.code === 'SONDE_ERR_COMMAND_NOT_FOUND' && index < CLIENTS.length - 1) continue;
      if (isSondeError(error) && error.code === 'SONDE_ERR_COMMAND_NOT_FOUND') {
        throw new SondeError('SONDE_ERR_COMMAND_NOT_FOUND', 'neither the mariadb nor the mysql client is installed');
      }
      throw error;
    }
    if (run.exitCode !== 0) {
      const failure = classifyMysqlError(run.stderr);
      throw new SondeError('SONDE_ERR_COMMAND_FAILED', `mysql at ${connection.host}:${connection.port}: ${failure.message}`, {
        reason: failure.reason,
        errno: failure.errno,
      });
    }
    if (run.truncated) throw new SondeError('SONDE_ERR_OUTPUT_LIMIT', `mysql ${sql}: the answer exceeded the output limit`);
    return parseBatch(run.stdout);
  }
  throw new SondeError('SONDE_ERR_COMMAND_NOT_FOUND', 'neither the mariadb nor the mysql client is installed');
}
