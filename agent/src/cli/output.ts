import { AgentError, toAgentError } from '../errors.js';

export interface JsonOption {
  json?: boolean;
}

/** One output path for both modes: `--json` prints the data object, otherwise the text lines. */
export function emit(options: JsonOption, data: unknown, text: string | string[]): void {
  if (options.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(`${Array.isArray(text) ? text.join('\n') : text}\n`);
}

export function printError(error: unknown, json: boolean): number {
  const failure = toAgentError(error);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: failure.toJSON() }, null, 2)}\n`);
  else process.stderr.write(`error ${failure.code}: ${failure.message}\n  next: ${failure.next}\n`);
  return failure.exitCode;
}

/** Wraps a command action: errors become a message and the documented exit code, never a stack trace. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      const command = args[args.length - 1] as { opts?: () => JsonOption } | undefined;
      const json = Boolean(command?.opts?.().json) || process.argv.includes('--json');
      process.exitCode = printError(error, json);
    }
  };
}

export { AgentError };
