import { SondeError } from '../errors.js';
import type { Pack } from '../manifest/define.js';
import { fullProbeName } from '../manifest/define.js';
import type {
  ExecOptions,
  ExecResult,
  HttpRequest,
  HttpResponse,
  ProbeContext,
  ReadFileOptions,
  ReadFileResult,
} from '../runtime/context.js';
import { capText, interpretExit } from '../runtime/exec-result.js';
import { checkCommand, checkDirList, checkFileRead, checkHttp } from '../runtime/guard.js';
import { runProbe, type RunProbeOptions } from '../runtime/run-probe.js';

/**
 * Test harness for pack authors: runs a probe against recorded command output,
 * fixture files and canned HTTP responses. The context checks the pack's
 * declared permissions exactly like a real host, so a test also proves the
 * declarations cover what the probe does.
 */

export interface CommandFixture {
  binary: string;
  args: string[];
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Simulates a host failure instead of an exit: binary missing, permission denied, hang. */
  fail?: 'not-found' | 'permission-denied' | 'timeout';
}

export interface HttpFixture {
  url: string;
  method?: string;
  status?: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface Fixtures {
  commands?: CommandFixture[];
  /** File path → content. */
  files?: Record<string, string>;
  /** Directory path → entry names. */
  dirs?: Record<string, string[]>;
  http?: HttpFixture[];
  credentials?: Record<string, string>;
  endpoint?: string;
}

export interface CallLog {
  commands: Array<{ binary: string; args: string[] }>;
  files: string[];
  http: Array<{ url: string; method: string }>;
}

export function createFixtureContext(pack: Pack, fixtures: Fixtures, signal: AbortSignal, calls?: CallLog): ProbeContext {
  const permissions = pack.manifest.permissions;
  return {
    credentials: fixtures.credentials ?? {},
    endpoint: fixtures.endpoint,
    signal,
    exec(binary: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult> {
      try {
        checkCommand(permissions, binary, args);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      calls?.commands.push({ binary, args: [...args] });
      const fixture = fixtures.commands?.find(
        (c) => c.binary === binary && c.args.length === args.length && c.args.every((a, i) => a === args[i]),
      );
      if (!fixture) {
        return Promise.reject(new Error(`harness: no recorded output for ${binary} ${JSON.stringify(args)}; add it to fixtures.commands`));
      }
      if (fixture.fail === 'not-found') return Promise.reject(new SondeError('SONDE_ERR_COMMAND_NOT_FOUND', `${binary} is not installed`));
      if (fixture.fail === 'permission-denied') {
        return Promise.reject(new SondeError('SONDE_ERR_COMMAND_FAILED', `${binary}: permission denied`, { binary }));
      }
      if (fixture.fail === 'timeout') return new Promise<never>(() => undefined);
      const max = options?.maxOutputBytes ?? pack.manifest.probes[0]?.maxOutputBytes ?? 1024 * 1024;
      const stdout = capText(fixture.stdout ?? '', max);
      const stderr = capText(fixture.stderr ?? '', 64 * 1024);
      try {
        return Promise.resolve(
          interpretExit(
            binary,
            { stdout: stdout.text, stderr: stderr.text, exitCode: fixture.exitCode ?? 0, truncated: stdout.truncated || stderr.truncated },
            options,
          ),
        );
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    readFile(path: string, options?: ReadFileOptions): Promise<ReadFileResult> {
      try {
        checkFileRead(permissions, path);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      calls?.files.push(path);
      const content = fixtures.files?.[path];
      if (content === undefined) return Promise.reject(new SondeError('SONDE_ERR_FILE_NOT_FOUND', `${path} does not exist`, { path }));
      const capped = capText(content, options?.maxBytes ?? 1024 * 1024, options?.tail ?? false);
      return Promise.resolve({ content: capped.text, size: Buffer.byteLength(content), truncated: capped.truncated });
    },
    listDir(path: string): Promise<string[]> {
      try {
        checkDirList(permissions, path);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const entries = fixtures.dirs?.[path];
      if (!entries) return Promise.reject(new SondeError('SONDE_ERR_FILE_NOT_FOUND', `${path} does not exist`, { path }));
      return Promise.resolve([...entries]);
    },
    http(url: string, request?: HttpRequest): Promise<HttpResponse> {
      try {
        checkHttp(permissions, url, fixtures.endpoint);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const method = request?.method ?? 'GET';
      calls?.http.push({ url, method });
      const fixture = fixtures.http?.find((h) => h.url === url && (h.method ?? 'GET') === method);
      if (!fixture) return Promise.reject(new Error(`harness: no recorded response for ${method} ${url}; add it to fixtures.http`));
      const body = capText(fixture.body ?? '', request?.maxBytes ?? 1024 * 1024);
      return Promise.resolve({ status: fixture.status ?? 200, headers: fixture.headers ?? {}, body: body.text, truncated: body.truncated });
    },
  };
}

export interface HarnessRun<T = unknown> {
  result: T;
  calls: CallLog;
  durationMs: number;
}

/**
 * Runs `probe` of `pack` with `params` against `fixtures`. Rejects with the
 * same SondeError a host would report (invalid params, denied command, …).
 */
export async function runProbeWithFixtures<T = unknown>(
  pack: Pack,
  probe: string,
  params: unknown,
  fixtures: Fixtures = {},
  options: RunProbeOptions = {},
): Promise<HarnessRun<T>> {
  const calls: CallLog = { commands: [], files: [], http: [] };
  const outcome = await runProbe(pack, probe, params, (signal) => createFixtureContext(pack, fixtures, signal, calls), options);
  return { result: outcome.result as T, calls, durationMs: outcome.durationMs };
}

/** Names every probe of a pack by its full name, for table-driven tests. */
export function probeNames(pack: Pack): string[] {
  return pack.manifest.probes.map((probe) => fullProbeName(pack.manifest.name, probe.name));
}

export * from './fake-api.js';

/**
 * Every string (or enum) parameter the manifest declares, as `probe.param`.
 * Injection tests compare their attack table against it, so a new string
 * parameter cannot be added without being attacked.
 */
export function stringParams(pack: Pack): string[] {
  return pack.manifest.probes.flatMap((probe) =>
    Object.entries((probe.params.properties ?? {}) as Record<string, { type?: string; enum?: unknown }>)
      .filter(([, schema]) => schema.type === 'string' || schema.enum !== undefined)
      .map(([param]) => `${probe.name}.${param}`),
  );
}
