/**
 * What a probe handler may do. Handlers get nothing else: no fs, no
 * child_process, no sockets. Hosts implement this interface (in-process for
 * tests, brokered over IPC from a sandboxed pack process in the agent), and
 * every implementation checks the pack's declared permissions.
 */
export interface ExecOptions {
  /** Exit codes treated as success (default [0]). */
  okExitCodes?: number[];
  timeoutMs?: number;
  maxOutputBytes?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** True when stdout or stderr hit the output cap and was cut. */
  truncated: boolean;
}

export interface ReadFileOptions {
  maxBytes?: number;
  /** Read the end of the file instead of the start (for logs). */
  tail?: boolean;
}

export interface ReadFileResult {
  content: string;
  /** Size of the whole file in bytes. */
  size: number;
  truncated: boolean;
}

export interface HttpRequest {
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  truncated: boolean;
}

export interface ProbeContext {
  /** Runs a declared binary with execFile (no shell) and a declared argument shape. */
  exec(binary: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Reads a file under a declared path glob; the real path is checked, so symlinks cannot escape. */
  readFile(path: string, options?: ReadFileOptions): Promise<ReadFileResult>;
  /** Lists a declared directory (names only). */
  listDir(path: string): Promise<string[]>;
  /** HTTP to a declared endpoint only (integration packs). */
  http(url: string, request?: HttpRequest): Promise<HttpResponse>;
  /** Named credentials the operator configured for this integration instance. */
  readonly credentials: Readonly<Record<string, string>>;
  /** Configured endpoint of the integration instance, if any. */
  readonly endpoint: string | undefined;
  /** Aborted when the probe times out or the caller gives up. */
  readonly signal: AbortSignal;
}
