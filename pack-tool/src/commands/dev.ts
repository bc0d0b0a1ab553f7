import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newKeyFile, publicPart, readKeyFile, signPackTarball, writeKeyFile, type KeyFile } from '@sonde/registry';
import { parse } from '../args.js';
import { EXIT_FAILED, EXIT_OK, ToolError, UsageError, type Io } from '../output.js';
import { loadProject, MANIFEST_FILE, type Project } from '../project.js';
import { defaultKeyPath, publicKeyPath } from '../publisher-key.js';
import { npmPack } from './sign.js';

interface DevOptions {
  probes: string[];
  params: unknown;
  endpoint?: string;
  credentials: Record<string, string>;
  /** SONDE_HOME of a local agent to hot-install into; with `sonde`, the command that runs its CLI. */
  agentHome?: string;
  sonde: string[];
  json: boolean;
}

/** What one cycle did, printed as a line per step (or one JSON object with --json). */
interface Cycle {
  ok: boolean;
  step: 'build' | 'validate' | 'probes' | 'install' | 'done';
  build?: { ok: boolean; output?: string };
  findings?: Array<{ rule: string; level: string; message: string }>;
  probes?: Array<{ probe: string; ok: boolean; durationMs?: number; result?: unknown; error?: string; checks: number }>;
  install?: { version: string; state: string; tarball: string };
  error?: string;
}

function run(cmd: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd[0], cmd.slice(1), { cwd, env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/**
 * The development key: its own file beside the publisher key, never the key a
 * release is signed with, so a build signed on every save can only ever be
 * trusted by an agent the author pointed `dev` at.
 */
async function devKey(): Promise<{ key: KeyFile; pub: string }> {
  const file = path.join(path.dirname(defaultKeyPath()), 'dev-publisher.json');
  const pub = publicKeyPath(file);
  if (existsSync(file)) return { key: await readKeyFile(file), pub };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = newKeyFile({ publisher: 'sonde-pack-dev' });
  await writeKeyFile(file, key);
  writeFileSync(pub, `${JSON.stringify(publicPart(key), null, 2)}\n`);
  return { key, pub };
}

/**
 * Signs this build as `<version>-dev.<time>` (an installed version never
 * changes, so each save is a new one) with the development key and installs it
 * into the agent home: trusted for this pack only, approved by the author who
 * owns that agent. A running agent polls its packs and approvals, so the new
 * code serves, and shows on the hub as MCP tools, without a restart.
 */
async function hotInstall(project: Project, packName: string, options: DevOptions, staging: string): Promise<Cycle['install']> {
  const home = options.agentHome ?? '';
  const env = { ...process.env, SONDE_HOME: home };
  const sonde = async (args: string[]): Promise<Record<string, unknown>> => {
    const result = await run([...options.sonde, ...args, '--json'], project.dir, env);
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(result.out.slice(result.out.indexOf('{'), result.out.lastIndexOf('}') + 1)) as Record<string, unknown>;
    } catch {
      // Not JSON: the command's own text is the error below.
    }
    if (result.code !== 0)
      throw new ToolError(
        `${options.sonde.join(' ')} ${args[0]} ${args[1] ?? ''} failed: ${String((parsed.error as { message?: string } | undefined)?.message ?? result.out.trim().split('\n').slice(-2).join(' '))}`,
        'Check --agent-home (the local agent’s SONDE_HOME) and --sonde (how to run its CLI, e.g. "sudo -u sonde sonde").',
      );
    return parsed;
  };
  const { key, pub } = await devKey();
  const trusted = await sonde(['trust', 'list']);
  if (!JSON.stringify(trusted).includes(key.keyId)) {
    // A copy in the staging folder: the agent may run as a user who cannot read the author's config folder.
    const readable = path.join(staging, path.basename(pub));
    cpSync(pub, readable);
    chmodSync(readable, 0o644);
    await sonde(['trust', 'add-key', readable, '--allow', packName]);
  }

  const version = `${project.packageJson.version.split('-')[0]}-dev.${Date.now()}`;
  const stage = path.join(staging, version);
  // The pack folder as npm would pack it, with the dev version in package.json and sonde-pack.json.
  cpSync(project.dir, stage, {
    recursive: true,
    filter: (source) => !/[\\/](node_modules|\.git)$/.test(source) || source === project.dir,
  });
  for (const file of ['package.json', MANIFEST_FILE]) {
    const target = path.join(stage, file);
    const document = JSON.parse(readFileSync(target, 'utf8')) as { version: string };
    document.version = version;
    writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  }
  const tarball = await npmPack(stage, staging);
  await signPackTarball(tarball, key);
  chmodSync(tarball, 0o644); // the agent may run as its own user
  const installed = await sonde(['packs', 'install', tarball, '--allow-downgrade']);
  let state = typeof installed.state === 'string' ? installed.state : 'unknown';
  if (state === 'pending') {
    await sonde(['packs', 'approve', packName]);
    state = 'active';
  }
  rmSync(stage, { recursive: true, force: true });
  return { version, state, tarball };
}

/** This tool's own bin: validate and try run in a fresh process each cycle, so they import the code just built. */
const BIN = fileURLToPath(new URL('../../bin/sonde-pack.js', import.meta.url));

async function tool(args: string[], dir: string): Promise<Record<string, unknown>> {
  const result = await run([process.execPath, BIN, ...args, '--json', '--dir', dir], dir);
  try {
    return JSON.parse(result.out.slice(result.out.indexOf('{'), result.out.lastIndexOf('}') + 1)) as Record<string, unknown>;
  } catch {
    return { ok: false, error: result.out.trim().split('\n').slice(-3).join(' ') };
  }
}

async function cycle(project: Project, options: DevOptions, staging: string): Promise<Cycle> {
  if (typeof (project.packageJson as { scripts?: Record<string, string> }).scripts?.build === 'string') {
    const built = await run(['npm', 'run', 'build', '--silent'], project.dir);
    if (built.code !== 0)
      return { ok: false, step: 'build', build: { ok: false, output: built.out.trim().split('\n').slice(-15).join('\n') } };
  }
  // Node caches every module a process imported, so code that changed on disk loads only in a new process.
  const validated = await tool(['validate'], project.dir);
  const findings = ((validated.findings ?? []) as Array<{ rule: string; level: string; message: string }>).map(
    ({ rule, level, message }) => ({
      rule,
      level,
      message,
    }),
  );
  if (validated.ok !== true)
    return {
      ok: false,
      step: 'validate',
      build: { ok: true },
      findings: findings.length
        ? findings
        : [{ rule: 'manifest/load', level: 'error', message: typeof validated.error === 'string' ? validated.error : 'validate failed' }],
    };
  const fresh = loadProject(project.dir); // package.json may have changed
  const manifest = JSON.parse(readFileSync(fresh.manifestFile, 'utf8')) as { name: string; probes: Array<{ name: string }> };
  const names = options.probes.length ? options.probes : manifest.probes.map((probe) => probe.name);
  const flags = [
    '--params',
    JSON.stringify(options.params),
    ...(options.endpoint ? ['--endpoint', options.endpoint] : []),
    ...Object.entries(options.credentials).flatMap(([name, value]) => ['--credential', `${name}=${value}`]),
  ];
  const probes: NonNullable<Cycle['probes']> = [];
  for (const name of names) {
    const tried = await tool(['try', name, ...flags], project.dir);
    const error = tried.error as { code?: string; message?: string } | string | undefined;
    probes.push({
      probe: typeof tried.probe === 'string' ? tried.probe : name,
      ok: tried.ok === true,
      durationMs: typeof tried.durationMs === 'number' ? Math.round(tried.durationMs) : undefined,
      result: tried.result,
      error:
        error === undefined
          ? undefined
          : typeof error === 'string'
            ? `${error}${typeof tried.next === 'string' ? ` (${tried.next})` : ''}`
            : `${error.code ?? 'error'}: ${error.message ?? ''}`,
      checks: Array.isArray(tried.checks) ? tried.checks.length : 0,
    });
  }
  const base = { build: { ok: true }, findings, probes };
  if (!options.agentHome) return { ok: probes.every((p) => p.ok), step: 'done', ...base };
  try {
    const install = await hotInstall(fresh, manifest.name, options, staging);
    return { ok: probes.every((p) => p.ok), step: 'done', ...base, install };
  } catch (error) {
    return {
      ok: false,
      step: 'install',
      ...base,
      error: `${(error as Error).message}${error instanceof ToolError ? `; ${error.next}` : ''}`,
    };
  }
}

function show(io: Io, result: Cycle, json: boolean): void {
  if (json) return io.out(JSON.stringify(result));
  const time = new Date().toTimeString().slice(0, 8);
  if (result.build && !result.build.ok) return io.out(`[${time}] build failed:\n${result.build.output ?? ''}`);
  for (const f of result.findings ?? []) io.out(`[${time}] ${f.level} ${f.rule}: ${f.message}`);
  if (result.step === 'validate') return io.out(`[${time}] not run: fix the validation errors above`);
  for (const p of result.probes ?? [])
    io.out(
      p.ok
        ? `[${time}] ✔ ${p.probe} ${p.durationMs ?? 0} ms, ${p.checks} permission check(s): ${JSON.stringify(p.result).slice(0, 300)}`
        : `[${time}] ✖ ${p.probe}: ${p.error ?? ''}`,
    );
  if (result.install) io.out(`[${time}] installed ${result.install.version} into the agent (${result.install.state})`);
  if (result.error) io.out(`[${time}] ${result.error}`);
}

/**
 * The inner loop: on start and on every save under src/ (or package.json),
 * build, validate, run the probes here through the real host context and, with
 * --agent-home, sign the build with a development key and install it into a
 * local agent. --once runs one cycle and exits with its outcome (CI, scripts).
 */
export const devCommand = {
  name: 'dev',
  usage:
    'sonde-pack dev [--probe NAME]... [--params JSON] [--endpoint URL] [--credential NAME=VALUE]... [--agent-home DIR [--sonde CMD]] [--once] [--dir DIR] [--json]',
  summary: 'watch src/: rebuild, validate and re-run the probes on every save; with --agent-home, hot-install into a local agent',
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(
      argv,
      {
        dir: { type: 'string' },
        probe: { type: 'string', multiple: true },
        params: { type: 'string' },
        endpoint: { type: 'string' },
        credential: { type: 'string', multiple: true },
        'agent-home': { type: 'string' },
        sonde: { type: 'string' },
        once: { type: 'boolean' },
      },
      { min: 0, max: 0, what: '' },
      'dev',
    );
    if (values.help) {
      io.out(
        [
          `${this.usage}`,
          `  ${this.summary}`,
          '  --probe NAME      run only this probe (repeatable; default: every probe, with --params or {})',
          '  --agent-home DIR  SONDE_HOME of a local agent (npm start in a Sonde checkout uses .sonde-local/agent):',
          '                    each build is signed with a development key (~/.config/sonde/dev-publisher.json, trusted',
          '                    there for this pack only) as <version>-dev.<time>, installed and approved; the running',
          '                    agent loads it and the hub lists its probes as MCP tools',
          '  --sonde CMD       how to run the agent CLI (default: sonde; e.g. "sudo -u sonde sonde")',
          '  --once            one cycle, then exit 0 if everything passed, else 1',
        ].join('\n'),
      );
      return EXIT_OK;
    }
    let params: unknown = {};
    if (typeof values.params === 'string') {
      try {
        params = JSON.parse(values.params);
      } catch {
        throw new UsageError(`dev: --params is not JSON: ${values.params}`, `Pass a JSON object, e.g. --params '{"minPercent": 50}'.`);
      }
    }
    const credentials: Record<string, string> = {};
    for (const pair of (values.credential as string[] | undefined) ?? []) {
      const at = pair.indexOf('=');
      if (at < 1) throw new UsageError(`dev: --credential ${pair.split('=')[0]} needs NAME=VALUE`, 'e.g. --credential apiToken=$TOKEN');
      credentials[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const agentHome = typeof values['agent-home'] === 'string' ? path.resolve(values['agent-home']) : undefined;
    if (values.sonde !== undefined && !agentHome) throw new UsageError('dev: --sonde needs --agent-home', 'Name the agent’s SONDE_HOME.');
    const options: DevOptions = {
      probes: (values.probe as string[] | undefined) ?? [],
      params,
      endpoint: values.endpoint as string | undefined,
      credentials,
      agentHome,
      sonde: typeof values.sonde === 'string' ? values.sonde.split(' ').filter(Boolean) : ['sonde'],
      json: values.json === true,
    };
    const project = loadProject(path.resolve((values.dir as string | undefined) ?? '.'));
    // Dev tarballs are not secret; the folder is readable so an agent running as its own user can install them.
    const staging = mkdtempSync(path.join(os.tmpdir(), 'sonde-pack-dev-'));
    chmodSync(staging, 0o755);
    try {
      if (values.once) {
        const result = await cycle(project, options, staging);
        show(io, result, options.json);
        return result.ok ? EXIT_OK : EXIT_FAILED;
      }
      return await watchLoop(project, options, staging, io);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  },
};

/** Runs a cycle now and after each burst of changes (one at a time; a change during a cycle runs one more after it). */
async function watchLoop(project: Project, options: DevOptions, staging: string, io: Io): Promise<number> {
  const watched = [path.join(project.dir, 'src'), path.join(project.dir, 'package.json')].filter((p) => existsSync(p));
  if (watched.length === 0) throw new ToolError(`${project.dir} has no src/ to watch`, 'Run sonde-pack dev in a pack folder.');
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  const go = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    do {
      again = false;
      try {
        show(io, await cycle(project, options, staging), options.json);
      } catch (error) {
        show(io, { ok: false, step: 'build', error: (error as Error).message }, options.json);
      }
    } while (again);
    running = false;
    if (!options.json) io.out('watching src/ and package.json (Ctrl-C stops)');
  };
  const watchers: FSWatcher[] = watched.map((target) =>
    watch(target, { recursive: target.endsWith('src') }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void go(), 150); // an editor's save is several events
    }),
  );
  await go();
  return await new Promise<number>((resolve) => {
    const stop = (): void => {
      for (const watcher of watchers) watcher.close();
      clearTimeout(timer);
      resolve(EXIT_OK);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
