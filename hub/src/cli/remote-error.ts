/** What the running hub answered (its own error code), or that it did not answer. */
export class RemoteHubError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status, 0 when the hub did not answer. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'RemoteHubError';
  }
}
