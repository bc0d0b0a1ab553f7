import { ARG_PLACEHOLDERS, SondeError, type ProbeContext } from '@sonde/pack-sdk';
import { z } from 'zod';
import { classifyPsqlError } from './parsers/psql-error.js';
import { parseJsonLines } from './parsers/json-lines.js';
import { QUERY_SETS, SQL, type QuerySet } from './sql.js';

/**
 * Role and database names: identifiers only. Anything with `=`, `:` or `/`
 * would make psql read `-d` as a connection string or URI (another host,
 * sslmode, a service file), so those characters are refused here even though
 * the host's generic <name> placeholder would allow some of them.
 */
export const PG_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

export const ConnectionParamsSchema = z
  .object({
    host: z.string().regex(ARG_PLACEHOLDERS['<host>'], 'host is a host name or an IP address').default('127.0.0.1'),
    socket: z
      .boolean()
      .default(false)
      .describe("Connect over the server's default Unix socket instead of TCP (peer authentication, no password); host is then ignored."),
    port: z.number().int().min(1).max(65535).default(5432),
    user: z.string().regex(PG_IDENTIFIER, 'user is a role name: letters, digits, _ and -').optional(),
    database: z.string().regex(PG_IDENTIFIER, 'database is a database name: letters, digits, _ and -').default('postgres'),
  })
  .strict();

export type ConnectionParams = z.infer<typeof ConnectionParamsSchema>;
/** What psqlArgs needs; `socket` may be left out (TCP). */
export type ConnectionTarget = Omit<ConnectionParams, 'socket'> & { socket?: boolean };

/** -X: no ~/.psqlrc; -w: never prompt; -A -t: bare values; ON_ERROR_STOP: a failed statement fails the run. */
const FIXED_FLAGS = ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'] as const;

/** The argv for one psql run: connection values are whole argv items, SQL comes only from the fixed table. */
export function psqlArgs(connection: ConnectionTarget, set: QuerySet): string[] {
  // No -h: psql uses its compiled-in socket directory, so a caller can never name an arbitrary path.
  const target = connection.socket ? ['-p', String(connection.port)] : ['-h', connection.host, '-p', String(connection.port)];
  if (connection.user !== undefined) target.push('-U', connection.user);
  target.push('-d', connection.database);
  return [...FIXED_FLAGS, ...target, ...QUERY_SETS[set].flatMap((name) => ['-c', SQL[name]])];
}

/** Shapes for the manifest: every query set, over TCP or the default socket, with and without an explicit role. */
export function psqlShapes(): string[][] {
  const shapes: string[][] = [];
  for (const set of Object.keys(QUERY_SETS) as QuerySet[]) {
    const statements = QUERY_SETS[set].flatMap((name) => ['-c', SQL[name]]);
    for (const target of [
      ['-h', '<host>', '-p', '<uint>'],
      ['-p', '<uint>'],
    ]) {
      shapes.push([...FIXED_FLAGS, ...target, '-d', '<name>', ...statements]);
      shapes.push([...FIXED_FLAGS, ...target, '-U', '<name>', '-d', '<name>', ...statements]);
    }
  }
  return shapes;
}

/**
 * Runs one fixed query set and returns one parsed JSON value per statement
 * (null where the statement returned no rows). Client failures become a
 * SONDE_ERR_COMMAND_FAILED with a one-line reason instead of raw stderr.
 */
export async function queryJson(ctx: ProbeContext, connection: ConnectionTarget, set: QuerySet): Promise<unknown[]> {
  const run = await ctx.exec('psql', psqlArgs(connection, set), { okExitCodes: [0, 1, 2, 3] });
  if (run.exitCode !== 0) {
    const failure = classifyPsqlError(run.stderr);
    const where = connection.socket ? `the local socket (port ${connection.port})` : `${connection.host}:${connection.port}`;
    throw new SondeError('SONDE_ERR_COMMAND_FAILED', `postgres at ${where}: ${failure.message}`, {
      reason: failure.reason,
      exitCode: run.exitCode,
    });
  }
  if (run.truncated) throw new SondeError('SONDE_ERR_OUTPUT_LIMIT', `postgres ${set}: the answer exceeded the output limit`);
  return parseJsonLines(run.stdout, QUERY_SETS[set].length);
}
