import { RegistryError } from '../errors.js';
import { ArgumentError, parseWithCommander, type OptionSpec, type OptionSpecs } from './args.js';

/** Exit codes: 0 ok, 1 refused or failed, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run: (argv: string[], io: Io) => Promise<number>;
}

/** The flags a command takes; every command also takes --json. */
type Options = OptionSpecs;

type Value<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['multiple'] extends true
    ? string[]
    : S extends { default: string }
      ? string
      : string | undefined;

interface Parsed<T extends Options> {
  values: { [K in keyof T]: Value<T[K]> } & { json: boolean };
  positionals: string[];
}

/** Commander-backed parsing with usage errors in our words, `--json` on every command, and a positional count check. */
export function parse<T extends Options>(argv: string[], options: T, positionals: { min: number; max: number }): Parsed<T> {
  let parsed: ReturnType<typeof parseWithCommander>;
  try {
    parsed = parseWithCommander(argv, { ...options, json: { type: 'boolean', default: false } });
  } catch (error) {
    if (error instanceof ArgumentError) throw new UsageError(error.message);
    throw error;
  }
  if (parsed.positionals.length < positionals.min) throw new UsageError('missing argument');
  if (parsed.positionals.length > positionals.max) throw new UsageError(`unexpected argument ${parsed.positionals[positionals.max]}`);
  for (const [name, spec] of Object.entries(options))
    if (spec.type === 'boolean' && parsed.values[name] === undefined) parsed.values[name] = false;
  return parsed as unknown as Parsed<T>;
}

export function required<V>(value: V | undefined, flag: string): V {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

export function parseDate(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${flag} must be an ISO date and time, e.g. 2026-01-31T12:00:00Z`);
  return date;
}

/** One output path for humans and for `--json`, so both always say the same thing. */
export function report(io: Io, json: boolean, result: Record<string, unknown>, lines: string[]): void {
  if (json) io.out(JSON.stringify(result, null, 2));
  else for (const line of lines) io.out(line);
}

export function reportError(io: Io, json: boolean, error: unknown): number {
  if (error instanceof UsageError) {
    if (json) io.out(JSON.stringify({ ok: false, code: 'SONDE_ERR_USAGE', reason: error.message }));
    else io.err(`sonde-registry: ${error.message} (see sonde-registry help)`);
    return EXIT_USAGE;
  }
  if (error instanceof RegistryError) {
    if (json) io.out(JSON.stringify({ ok: false, code: error.code, reason: error.message, ...(error.file ? { file: error.file } : {}) }));
    else io.err(`sonde-registry: ${error.code}: ${error.message}`);
    return EXIT_REFUSED;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (json) io.out(JSON.stringify({ ok: false, code: 'SONDE_ERR_INTERNAL', reason: message }));
  else io.err(`sonde-registry: unexpected error: ${message}`);
  return EXIT_REFUSED;
}
