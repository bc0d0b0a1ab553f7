import path from 'node:path';
import {
  checkCommand,
  checkDirList,
  checkFileRead,
  checkHttp,
  createHostContext,
  runProbe,
  type Pack,
  type Permissions,
  type ProbeContext,
} from '@sonde/pack-sdk';
import { parse } from '../args.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Io } from '../output.js';
import { loadPack, loadProject } from '../project.js';

interface Check {
  effect: 'exec' | 'readFile' | 'listDir' | 'http';
  target: string;
  allowed: boolean;
  /** The declaration that allowed it, e.g. `commands[0] uname ["-r"]`. */
  by?: string;
  error?: string;
}

/** Which single declared entry admits the call: the SDK's own guard, asked one entry at a time. */
function matchingDeclaration(permissions: Permissions, test: (subset: Permissions) => void): string | undefined {
  const only = (patch: Partial<Permissions>): Permissions => ({ ...permissions, commands: [], files: [], network: [], ...patch });
  const admits = (subset: Permissions): boolean => {
    try {
      test(subset);
      return true;
    } catch {
      return false;
    }
  };
  for (const [i, command] of permissions.commands.entries())
    for (const [j, shape] of command.args.entries())
      if (admits(only({ commands: [{ ...command, args: [shape] }] })))
        return `commands[${i}].args[${j}] ${command.binary} ${JSON.stringify(shape)}`;
  for (const [i, glob] of permissions.files.entries()) if (admits(only({ files: [glob] }))) return `files[${i}] ${glob}`;
  for (const [i, endpoint] of permissions.network.entries())
    if (admits(only({ network: [endpoint] })))
      return `network[${i}] ${endpoint.protocol}://${endpoint.host}${endpoint.paths ? ` ${endpoint.paths.join(' ')}` : ''}`;
  return undefined;
}

/** The real host context, with every effect recorded with the declaration that allowed it (or the refusal). */
function recordingContext(pack: Pack, inner: ProbeContext, endpoint: string | undefined, checks: Check[]): ProbeContext {
  const permissions = pack.manifest.permissions;
  const record = async <T>(effect: Check['effect'], target: string, test: (p: Permissions) => void, run: () => Promise<T>): Promise<T> => {
    try {
      const result = await run();
      checks.push({ effect, target, allowed: true, by: matchingDeclaration(permissions, test) });
      return result;
    } catch (error) {
      checks.push({ effect, target, allowed: false, error: (error as Error).message });
      throw error;
    }
  };
  return {
    ...inner,
    exec: (binary, args, options) =>
      record(
        'exec',
        `${binary} ${args.join(' ')}`,
        (p) => checkCommand(p, binary, args),
        () => inner.exec(binary, args, options),
      ),
    readFile: (file, options) =>
      record(
        'readFile',
        file,
        (p) => checkFileRead(p, file),
        () => inner.readFile(file, options),
      ),
    listDir: (dir) =>
      record(
        'listDir',
        dir,
        (p) => checkDirList(p, dir),
        () => inner.listDir(dir),
      ),
    http: (url, request) =>
      record(
        'http',
        `${request?.method ?? 'GET'} ${url}`,
        (p) => void checkHttp(p, url, endpoint),
        () => inner.http(url, request),
      ),
  };
}

export const tryCommand = {
  name: 'try',
  usage: 'sonde-pack try PROBE [--params JSON] [--endpoint URL] [--credential NAME=VALUE]... [--dir DIR] [--json]',
  summary: 'run one probe here through the real host context; print the result and each permission check it passed',
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      argv,
      { params: { type: 'string' }, endpoint: { type: 'string' }, credential: { type: 'string', multiple: true }, dir: { type: 'string' } },
      { min: 1, max: 1, what: 'the probe name (e.g. os.info)' },
      'try',
    );
    if (values.help) {
      io.out(
        `${this.usage}\n  ${this.summary}\n  --endpoint and --credential configure an integration pack as an operator would on the hub.`,
      );
      return EXIT_OK;
    }
    const project = loadProject(path.resolve((values.dir as string | undefined) ?? '.'));
    const pack = await loadPack(project);
    const packName = pack.manifest.name;
    const probe = positionals[0].startsWith(`${packName}.`) ? positionals[0].slice(packName.length + 1) : positionals[0];
    if (!pack.probes.has(probe))
      throw new UsageError(`try: ${packName} has no probe ${probe}`, `Probes: ${[...pack.probes.keys()].join(', ')}.`);
    let params: unknown = {};
    if (typeof values.params === 'string') {
      try {
        params = JSON.parse(values.params);
      } catch {
        throw new UsageError(`try: --params is not JSON: ${values.params}`, `Pass a JSON object, e.g. --params '{"minPercent": 50}'.`);
      }
    }
    const credentials: Record<string, string> = {};
    for (const pair of (values.credential as string[] | undefined) ?? []) {
      const at = pair.indexOf('=');
      if (at < 1) throw new UsageError(`try: --credential ${pair.split('=')[0]} needs NAME=VALUE`, 'e.g. --credential apiToken=$TOKEN');
      credentials[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const endpoint = values.endpoint as string | undefined;
    const checks: Check[] = [];
    let outcome: { result?: unknown; error?: { code?: string; message: string }; durationMs?: number };
    try {
      const run = await runProbe(pack, probe, params, (signal) =>
        recordingContext(
          pack,
          createHostContext({ permissions: pack.manifest.permissions, signal, endpoint, credentials }),
          endpoint,
          checks,
        ),
      );
      outcome = { result: run.result, durationMs: run.durationMs };
    } catch (error) {
      outcome = { error: { code: (error as { code?: string }).code, message: (error as Error).message } };
    }
    if (values.json) io.out(JSON.stringify({ ok: !outcome.error, probe: `${packName}.${probe}`, ...outcome, checks }));
    else {
      io.out(`${packName}.${probe} ${outcome.error ? 'failed' : `ok in ${Math.round(outcome.durationMs ?? 0)} ms`}`);
      io.out('permission checks:');
      if (checks.length === 0) io.out('  (none: the probe touched nothing outside itself)');
      for (const check of checks)
        io.out(
          `  ${check.allowed ? '✔' : '✖'} ${check.effect} ${check.target}${check.allowed ? `  ← ${check.by ?? 'declared'}` : `  refused: ${check.error}`}`,
        );
      if (outcome.error) io.err(`${outcome.error.code ?? 'error'}: ${outcome.error.message}`);
      else io.out(`result:\n${JSON.stringify(outcome.result, null, 2)}`);
    }
    return outcome.error ? EXIT_FAILED : EXIT_OK;
  },
};
