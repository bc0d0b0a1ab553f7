import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RegistryError } from '../errors.js';
import { isTarballPath } from '../pack/contents.js';

export interface FetchOptions {
  /** Folder npm runs in: its `.npmrc` (and the user's) decide registries, scopes and tokens. */
  cwd?: string;
  /** Registry URL for this fetch only (`--registry`); default: npm's configuration. */
  registry?: string;
  timeoutMs?: number;
  /** Environment for npm; default the current one. */
  env?: NodeJS.ProcessEnv;
}

export interface FetchedTarball {
  tarball: string;
  /** Removes the temporary folder (a no-op for a local tarball path). */
  cleanup: () => Promise<void>;
}

interface NpmPackEntry {
  filename?: unknown;
}

/**
 * Downloads a package tarball without installing it: `npm pack <spec>` through
 * execFile with an argument array (no shell) and `--ignore-scripts`, so fetching
 * never runs package code and npm's own configuration (`.npmrc`, scoped
 * registries, auth tokens, proxies) applies as for any npm command. Nothing is
 * unpacked here: the caller verifies the tarball in memory first.
 */
export async function fetchPackTarball(spec: string, options: FetchOptions = {}): Promise<FetchedTarball> {
  const local = resolve(options.cwd ?? process.cwd(), spec);
  if (isTarballPath(spec) && existsSync(local)) return { tarball: local, cleanup: async () => {} };
  if (spec.startsWith('-')) throw new RegistryError('SONDE_ERR_FETCH_FAILED', `"${spec}" is not a package spec`);
  const dir = await mkdtemp(join(tmpdir(), 'sonde-fetch-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const args = ['pack', spec, '--pack-destination', dir, '--ignore-scripts', '--json', '--no-fund', '--no-audit'];
  if (options.registry) args.push('--registry', options.registry);
  try {
    const stdout = await new Promise<string>((done, reject) => {
      execFile(
        'npm',
        args,
        { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 4 * 1024 * 1024 },
        (error, out, stderr) => {
          if (error) reject(new RegistryError('SONDE_ERR_FETCH_FAILED', `npm pack ${spec}: ${lastLines(stderr || error.message)}`));
          else done(out);
        },
      );
    });
    const entries = parseJsonArray(stdout);
    const filename = entries[0]?.filename;
    if (typeof filename !== 'string') throw new RegistryError('SONDE_ERR_FETCH_FAILED', `npm pack ${spec} named no tarball`);
    return { tarball: join(dir, filename.replace(/^@/, '').replace(/\//g, '-')), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function parseJsonArray(stdout: string): NpmPackEntry[] {
  // npm prints lifecycle noise before the JSON on some versions: take from the first '['.
  const start = stdout.indexOf('[');
  try {
    const parsed: unknown = JSON.parse(start === -1 ? stdout : stdout.slice(start));
    return Array.isArray(parsed) ? (parsed as NpmPackEntry[]) : [];
  } catch {
    return [];
  }
}

/**
 * npm's own reason in one line: its `npm error` lines without the stack
 * trace, the error object's fields and the generic advice, e.g.
 * `code E404; 404 Not Found - GET https://…`.
 */
function lastLines(text: string): string {
  const noise = /^(at |\{|\}|syscall |errno |A complete log|If you are behind a proxy|404$|404 (Note|tarball))/;
  const lines = text
    .split('\n')
    .filter((line) => line.startsWith('npm error'))
    .map((line) => line.replace(/^npm error\s?/, '').trim())
    // `code: 'E404',` and the like are the error object's fields; `FetchError: …` is the message.
    .filter((line) => line !== '' && !noise.test(line) && !(/^\w+: /.test(line) && !/^\w*Error: /.test(line)));
  const useful = lines.slice(0, 3).join('; ');
  if (useful) return useful.slice(0, 1000);
  const tail = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('npm warn'));
  return tail.slice(-3).join(' ').slice(0, 1000) || 'failed';
}
