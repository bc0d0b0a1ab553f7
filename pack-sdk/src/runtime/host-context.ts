import { constants, realpathSync } from 'node:fs';
import { open, readdir, realpath, type FileHandle } from 'node:fs/promises';
import { SondeError, isSondeError } from '../errors.js';
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

function realOrSelf(filePath: string): string {
  try {
    return realpathSync(filePath);
  } catch {
    return filePath;
  }
}

/** Reads at most `maxBytes` of a response body, then stops the transfer. */
async function readCapped(response: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  // Leaving the loop early cancels the stream, so a huge body is never pulled in whole.
  for await (const value of response.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(value));
    size += value.byteLength;
    if (size > maxBytes) {
      truncated = true;
      break;
    }
  }
  const capped = capText(Buffer.concat(chunks).toString('utf8'), maxBytes);
  return { text: capped.text, truncated: truncated || capped.truncated };
}

const READ_CHUNK = 64 * 1024;

/**
 * Reads a file whose stat size cannot be trusted (procfs, sysfs) until EOF.
 * From the start it stops after `maxBytes` + 1 bytes; for a tail it keeps a
 * sliding window of the last `maxBytes`, so memory stays bounded either way.
 */
async function readToEof(handle: FileHandle, maxBytes: number, tail: boolean, statSize: number): Promise<ReadFileResult> {
  let kept = Buffer.alloc(0);
  let total = 0;
  const chunk = Buffer.alloc(Math.max(1, Math.min(READ_CHUNK, maxBytes + 1)));
  for (;;) {
    const want = tail ? chunk.length : Math.min(chunk.length, maxBytes + 1 - kept.length);
    if (want <= 0) break;
    const { bytesRead } = await handle.read(chunk, 0, want, null);
    if (bytesRead === 0) break;
    total += bytesRead;
    kept = Buffer.concat([kept, chunk.subarray(0, bytesRead)]);
    if (tail && kept.length > maxBytes) kept = kept.subarray(kept.length - maxBytes);
  }
  const truncated = total > maxBytes;
  const window = tail ? kept : kept.subarray(0, Math.min(kept.length, maxBytes));
  let content = window.toString('utf8');
  if (truncated) content = tail ? content.replace(/^[^\n]*\n/, '').replace(/^\uFFFD+/, '') : content.replace(/\uFFFD+$/, '');
  // Without an honest stat size, the size is what was read (a lower bound when the read stopped at the cap).
  return { content, size: Math.max(statSize, total), truncated };
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
  // A protected path may itself be reached through a symlink: protect its real location too.
  const denied = [...new Set((options.deniedPaths ?? []).flatMap((p) => [p, realOrSelf(p)]))];
  const defaultMax = options.maxOutputBytes ?? 1024 * 1024;
  const defaultTimeout = options.timeoutMs ?? 30_000;

  /**
   * The check of a resolved path, reported in terms of the path the pack asked for: the real location (the
   * agent's home behind a symlink, say) is not the pack's to learn.
   */
  function checkResolved(check: () => void, asked: string): void {
    try {
      check();
    } catch (error) {
      if (isSondeError(error) && error.code === 'SONDE_ERR_PERMISSION_DENIED')
        throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `${asked} resolves to a path this pack may not read`, { path: asked });
      throw error;
    }
  }

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
    if (real !== filePath) checkResolved(() => checkFileRead(permissions, real, denied), filePath);
    return real;
  }

  return {
    credentials: options.credentials ?? {},
    endpoint: options.endpoint,
    signal,
    async exec(binary: string, args: readonly string[], execOptions: ExecOptions = {}): Promise<ExecResult> {
      let paths: string[];
      try {
        paths = checkCommand(permissions, binary, args);
      } catch (error) {
        throw asError(error);
      }
      // A `<path>` argument is a read by the command: the same deny-list and realpath checks as readFile.
      // A path that does not exist yet is left to the command (it has nothing to resolve).
      for (const argument of paths) {
        await checkedRealPath(argument).catch((error: unknown) => {
          if (isSondeError(error) && error.code === 'SONDE_ERR_FILE_NOT_FOUND') return;
          throw error;
        });
      }
      const maxBytes = Math.min(execOptions.maxOutputBytes ?? defaultMax, defaultMax);
      const timeout = Math.min(execOptions.timeoutMs ?? defaultTimeout, defaultTimeout);
      return new Promise((resolve, reject) => {
        // node:child_process is loaded on the first command, not with pack-sdk: a pack process imports pack-sdk and runs
        // no command itself (its effects are the agent's), and loading the module was ~5 % of its start (issue 26).
        process.getBuiltinModule('node:child_process').execFile(
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
      // O_NOFOLLOW: the checked real path must not turn into a symlink between check and open.
      // O_NONBLOCK: opening a FIFO must not hang the probe; it is refused below as not a regular file.
      const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ELOOP')
            throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `${filePath} changed while it was read`, { path: filePath });
          if (error.code === 'EACCES')
            throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `${filePath}: the agent user may not read it`, { path: filePath });
          if (error.code === 'ENOENT') throw new SondeError('SONDE_ERR_FILE_NOT_FOUND', `${filePath} does not exist`, { path: filePath });
          throw error;
        },
      );
      try {
        const info = await handle.stat();
        if (!info.isFile()) throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `${filePath} is not a regular file`, { path: filePath });
        // A regular file with a trustworthy size: read only the wanted window.
        if (info.size > 0 && readOptions.tail) {
          const length = Math.min(info.size, maxBytes);
          const start = Math.max(0, info.size - length);
          const buffer = Buffer.alloc(length);
          const { bytesRead } = await handle.read(buffer, 0, length, start);
          // Shorter than its stat size said (a sysfs attribute reports a page): read it as a pseudo-file.
          if (bytesRead < length) return await readToEof(handle, maxBytes, true, 0);
          let content = buffer.subarray(0, bytesRead).toString('utf8');
          if (start > 0) content = content.replace(/^[^\n]*\n/, '').replace(/^\uFFFD+/, '');
          return { content, size: info.size, truncated: info.size > length };
        }
        // procfs and sysfs files report a size of 0 (or a page) whatever they hold: read to EOF, never past the cap.
        return await readToEof(handle, maxBytes, readOptions.tail ?? false, info.size);
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
      if (real !== dirPath) checkResolved(() => checkDirList(permissions, real, denied), dirPath);
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
      let body: { text: string; truncated: boolean };
      try {
        body = await readCapped(response, maxBytes);
      } catch (error) {
        if (timeout.aborted) throw new SondeError('SONDE_ERR_TIMEOUT', `${target.origin} did not answer in time`);
        throw new SondeError('SONDE_ERR_HTTP_FAILED', `${target.origin}: ${asError(error).message}`);
      }
      return { status: response.status, headers: Object.fromEntries(response.headers), body: body.text, truncated: body.truncated };
    },
  };
}
