import { execFile } from 'node:child_process';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { SondeError } from '../errors.js';
import type { Permissions } from '../manifest/permissions.js';
import type { ExecOptions, ExecResult, HttpRequest, HttpResponse, ProbeContext, ReadFileOptions, ReadFileResult } from './context.js';
import { capText, interpretExit } from './exec-result.js';
import { checkCommand, checkDirList, checkFileRead, checkHttp } from './guard.js';

/** Commands resolve only through this fixed PATH, never the caller's environment. */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface HostContextOptions {
  permissions: Permissions;
  signal: AbortSignal;
  /** Paths no pack may read whatever it declares (the agent's key and config dir). */
  deniedPaths?: readonly string[];
  timeoutMs?: number;
  maxOutputBytes?: number;
  credentials?: Record<string, string>;
  endpoint?: string;
  /** Extra environment for commands (never inherited from the host process). */
  env?: Record<string, string>;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The real ProbeContext: execFile with an argument array (no shell), a clean
 * environment, hard time and output limits; file reads checked on the asked
 * path and on its realpath; HTTP only to declared endpoints, no redirects.
 */
export function createHostContext(options: HostContextOptions): ProbeContext {
  const { permissions, signal } = options;
  const denied = options.deniedPaths ?? [];
  const defaultMax = options.maxOutputBytes ?? 1024 * 1024;
  const defaultTimeout = options.timeoutMs ?? 30_000;

  async function checkedRealPath(filePath: string): Promise<string> {
    checkFileRead(permissions, filePath, denied);
    let real: string;
    try {
      real = await realpath(filePath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new SondeError('SONDE_ERR_FILE_NOT_FOUND', `${filePath} does not exist`, { path: filePath });
      if (code === 'EACCES')
        throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `${filePath}: the agent user may not read it`, { path: filePath });
      throw asError(error);
    }
    if (real !== filePath) checkFileRead(permissions, real, denied);
    return real;
  }

  return {
    credentials: options.credentials ?? {},
    endpoint: options.endpoint,
    signal,
    exec(binary: string, args: readonly string[], execOptions: ExecOptions = {}): Promise<ExecResult> {
      try {
        checkCommand(permissions, binary, args);
      } catch (error) {
        return Promise.reject(asError(error));
      }
      const maxBytes = Math.min(execOptions.maxOutputBytes ?? defaultMax, defaultMax);
      const timeout = Math.min(execOptions.timeoutMs ?? defaultTimeout, defaultTimeout);
      return new Promise((resolve, reject) => {
        execFile(
          binary,
          [...args],
          {
            shell: false,
            env: { PATH: SAFE_PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...options.env },
            timeout,
            killSignal: 'SIGKILL',
            maxBuffer: maxBytes,
            signal,
            windowsHide: true,
            encoding: 'utf8',
          },
          (error, stdout, stderr) => {
            if (error) {
              const err = error as NodeJS.ErrnoException & { killed?: boolean; code?: string | number; signal?: string };
              if (err.code === 'ENOENT')
                return reject(new SondeError('SONDE_ERR_COMMAND_NOT_FOUND', `${binary} is not installed`, { binary }));
              if (err.code === 'EACCES')
                return reject(new SondeError('SONDE_ERR_PERMISSION_DENIED', `${binary}: the agent user may not run it`, { binary }));
              if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
                const out = capText(stdout, maxBytes);
                return resolve({ stdout: out.text, stderr: capText(stderr, 64 * 1024).text, exitCode: 0, truncated: true });
              }
              if (err.name === 'AbortError')
                return reject(signal.reason instanceof Error ? signal.reason : new SondeError('SONDE_ERR_TIMEOUT'));
              if (err.killed)
                return reject(new SondeError('SONDE_ERR_TIMEOUT', `${binary} did not finish within ${timeout} ms`, { binary }));
              if (typeof err.code === 'number') {
                try {
                  return resolve(interpretExit(binary, { stdout, stderr, exitCode: err.code, truncated: false }, execOptions));
                } catch (failure) {
                  return reject(asError(failure));
                }
              }
              return reject(new SondeError('SONDE_ERR_COMMAND_FAILED', `${binary}: ${err.message}`, { binary }));
            }
            resolve({ stdout, stderr, exitCode: 0, truncated: false });
          },
        );
      });
    },
    async readFile(filePath: string, readOptions: ReadFileOptions = {}): Promise<ReadFileResult> {
      const real = await checkedRealPath(filePath);
      const maxBytes = Math.min(readOptions.maxBytes ?? defaultMax, defaultMax);
      const info = await stat(real);
      if (!info.isFile()) throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `${filePath} is not a regular file`, { path: filePath });
      const handle = await open(real, 'r');
      try {
        const length = Math.min(info.size, maxBytes);
        const start = readOptions.tail ? Math.max(0, info.size - length) : 0;
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, start);
        let content = buffer.subarray(0, bytesRead).toString('utf8');
        if (readOptions.tail && start > 0) content = content.replace(/^[^\n]*\n/, '').replace(/^\uFFFD+/, '');
        return { content, size: info.size, truncated: info.size > length };
      } finally {
        await handle.close();
      }
    },
    async listDir(dirPath: string): Promise<string[]> {
      checkDirList(permissions, dirPath, denied);
      const real = await realpath(dirPath).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw new SondeError('SONDE_ERR_FILE_NOT_FOUND', `${dirPath} does not exist`, { path: dirPath });
        throw error;
      });
      if (real !== dirPath) checkDirList(permissions, real, denied);
      return (await readdir(real)).sort();
    },
    async http(url: string, request: HttpRequest = {}): Promise<HttpResponse> {
      const target = checkHttp(permissions, url, options.endpoint);
      const maxBytes = Math.min(request.maxBytes ?? defaultMax, defaultMax);
      const timeout = AbortSignal.timeout(Math.min(request.timeoutMs ?? defaultTimeout, defaultTimeout));
      let response: Response;
      try {
        response = await fetch(target, {
          method: request.method ?? 'GET',
          headers: request.headers,
          body: request.body,
          redirect: 'manual',
          signal: AbortSignal.any([signal, timeout]),
        });
      } catch (error) {
        if (timeout.aborted) throw new SondeError('SONDE_ERR_TIMEOUT', `${target.origin} did not answer in time`);
        throw new SondeError('SONDE_ERR_HTTP_FAILED', `${target.origin}: ${asError(error).message}`);
      }
      const text = await response.text();
      const body = capText(text, maxBytes);
      return { status: response.status, headers: Object.fromEntries(response.headers), body: body.text, truncated: body.truncated };
    },
  };
}
