/**
 * Every refusal is a title, a body and a next step (the grafana/create-plugin
 * shape), with the exit code that says whose fault it was: 2 for a bad command
 * line, 1 for a refusal or a failed step.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class CreateError extends Error {
  constructor(
    readonly title: string,
    readonly body: string,
    readonly next: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(`${title}: ${body}`);
  }
}

export function usageError(title: string, body: string, next = 'Run npm create sonde-pack -- --help for every option.'): CreateError {
  return new CreateError(title, body, next, EXIT_USAGE);
}

export function formatError(error: CreateError): string {
  return `\n✖ ${error.title}\n\n  ${error.body.split('\n').join('\n  ')}\n\n  Next: ${error.next}\n`;
}
