import { ConfigError } from '../config.js';
import { HubError, HubErrors, storageFault } from '../errors.js';
import { SealError } from '../crypto/index.js';
import { RemoteHubError } from './remote-error.js';
import { z } from 'zod';

/** Exit codes, part of the CLI contract (listed in `sonde-hub --help`). */
export const EXIT = {
  ok: 0,
  /** Unexpected failure. */
  error: 1,
  /** Bad command line or configuration (missing/short SONDE_SECRET, …). */
  usage: 2,
  /** SONDE_SECRET does not open this database. */
  wrongSecret: 3,
  /** The thing named does not exist. */
  notFound: 4,
  /** `audit verify` found a broken chain. */
  auditBroken: 5,
  /** A command that acts through the running hub got no answer from it. */
  hubUnreachable: 6,
  /** The running hub refused the request (its key, its role or scope, or the state of what was named). */
  refused: 7,
  /** Stopped by Ctrl-C (SIGINT) after cleaning up (128 + the signal's number, as a shell reports it). */
  interrupted: 130,
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) return EXIT.usage;
  if (error instanceof RemoteHubError) {
    if (error.status === 0) return EXIT.hubUnreachable;
    if (error.status === 404) return EXIT.notFound;
    if (error.status === 400) return EXIT.usage;
    return error.status >= 500 ? EXIT.error : EXIT.refused;
  }
  if (error instanceof z.ZodError) return EXIT.usage;
  if (error instanceof HubError) {
    if (error.code === 'SONDE_ERR_WRONG_SECRET') return EXIT.wrongSecret;
    if (error.code.endsWith('_NOT_FOUND')) return EXIT.notFound;
    if (error.code === 'SONDE_ERR_AUDIT_BROKEN') return EXIT.auditBroken;
    if (error.code === 'SONDE_ERR_VALIDATION' || error.code === 'SONDE_ERR_CONFLICT') return EXIT.usage;
  }
  if (error instanceof SealError) return EXIT.wrongSecret;
  return EXIT.error;
}

/** One line per problem, with the code first; never a stack trace. */
export function describeError(error: unknown): string[] {
  if (error instanceof ConfigError) return error.problems.map((p) => `SONDE_ERR_CONFIG: ${p}`);
  if (error instanceof z.ZodError)
    return error.issues.map((i) => `SONDE_ERR_VALIDATION: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
  if (error instanceof HubError || error instanceof RemoteHubError) return [`${error.code}: ${error.message}`];
  if (error instanceof SealError) return [`SONDE_ERR_WRONG_SECRET: ${error.message}`];
  const message = error instanceof Error ? error.message : String(error);
  const fault = storageFault(error);
  if (fault) return [`${fault}: ${HubErrors[fault].message} (${message})`];
  return [`SONDE_ERR_INTERNAL: ${message}`];
}

export function fail(error: unknown, json: boolean): never {
  const lines = describeError(error);
  if (json) {
    const [first = 'SONDE_ERR_INTERNAL: unknown'] = lines;
    const colon = first.indexOf(':');
    process.stderr.write(
      `${JSON.stringify({ error: { code: first.slice(0, colon), message: lines.map((l) => l.slice(l.indexOf(':') + 2)).join('; ') } })}\n`,
    );
  } else {
    for (const line of lines) process.stderr.write(`sonde-hub: ${line}\n`);
  }
  process.exit(exitCodeFor(error));
}

export function print(json: boolean, data: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
}
