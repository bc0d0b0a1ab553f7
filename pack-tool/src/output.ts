/** Exit codes: 0 ok, 1 refused or failed, 2 bad command line. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A failure a pack author can act on: what went wrong, and the next step. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly next: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
  }
}

export class UsageError extends ToolError {
  constructor(message: string, next = 'Run sonde-pack help for every command.') {
    super(message, next, EXIT_USAGE);
  }
}

export function report(io: Io, error: unknown, json: boolean): number {
  const known = error instanceof ToolError;
  const code = known ? error.exitCode : EXIT_FAILED;
  const message = error instanceof Error ? error.message : String(error);
  const next = known ? error.next : 'If this keeps happening, report it with the command you ran.';
  if (json) io.out(JSON.stringify({ ok: false, error: message, next }));
  else io.err(`sonde-pack: ${message}\n  Next: ${next}`);
  return code;
}
