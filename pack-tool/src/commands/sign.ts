import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { publicPart, signPackTarball } from '@sonde/registry';
import { parse } from '../args.js';
import { EXIT_OK, ToolError, type Io } from '../output.js';
import { loadProject } from '../project.js';
import { publicKeyPath, publisherKey } from '../publisher-key.js';
import { validateProject } from './validate.js';

export function npmPack(dir: string, destination: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      ['pack', '--json', '--pack-destination', destination, '--ignore-scripts', '--no-fund', '--no-audit'],
      { cwd: dir, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          return reject(
            new ToolError(
              `npm pack failed: ${(stderr || error.message).trim().split('\n').slice(-3).join(' ')}`,
              'Fix what npm reported and run npm run sign again.',
            ),
          );
        try {
          const [entry] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
          resolve(path.join(destination, entry.filename.replace(/^@/, '').replace(/\//g, '-')));
        } catch {
          reject(new ToolError('npm pack named no tarball', 'Run npm pack by hand to see what it prints.'));
        }
      },
    );
  });
}

/**
 * Packs what npm would publish and signs the tarball (not the folder: npm
 * pack may rewrite package.json, so only the tarball's bytes are what an
 * agent will verify). The pack must validate first.
 */
export const signCommand = {
  name: 'sign',
  usage: 'sonde-pack sign [--dir DIR] [--key FILE] [--out DIR] [--json]',
  summary: 'npm pack and sign the tarball with your publisher key (made at ~/.config/sonde/publisher.json on first use)',
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(
      argv,
      { dir: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' } },
      { min: 0, max: 0, what: '' },
      'sign',
    );
    if (values.help) {
      io.out(
        `${this.usage}\n  ${this.summary}\n  --key FILE  a key from sonde-registry keygen (or SONDE_PUBLISHER_KEY)\n  --out DIR   where the signed .tgz goes (default: the pack folder)`,
      );
      return EXIT_OK;
    }
    const project = loadProject(path.resolve((values.dir as string | undefined) ?? '.'));
    const errors = (await validateProject(project)).filter((finding) => finding.level === 'error');
    if (errors.length > 0)
      throw new ToolError(
        `${errors.length} validation error${errors.length === 1 ? '' : 's'}, first: ${errors[0].message}`,
        'Run npm run validate, fix the errors, then sign again.',
      );
    const scope = /^@([^/]+)\//.exec(project.packageJson.name)?.[1];
    const { key, path: keyPath, created } = await publisherKey(values.key as string | undefined, scope ?? 'pack-author');
    const out = path.resolve((values.out as string | undefined) ?? project.dir);
    if (!existsSync(out)) throw new ToolError(`--out ${out} does not exist`, 'Create the folder or choose another.');
    const tarball = await npmPack(project.dir, out);
    const signed = await signPackTarball(tarball, key);
    const pub = publicKeyPath(keyPath);
    if (!existsSync(pub)) writeFileSync(pub, `${JSON.stringify(publicPart(key), null, 2)}\n`);
    if (values.json) {
      io.out(
        JSON.stringify({
          ok: true,
          tarball,
          integrity: signed.integrity,
          keyId: key.keyId,
          key: keyPath,
          publicKey: pub,
          createdKey: created,
        }),
      );
      return EXIT_OK;
    }
    if (created) io.out(`made a new publisher key ${keyPath} (secret, 0600; back it up) and its public half ${pub}`);
    io.out(`signed ${path.relative(process.cwd(), tarball) || tarball} with key ${key.keyId} (${signed.files} files, ${signed.integrity})`);
    io.out(`\nOn an agent, once:  sonde trust add-key ${pub}`);
    io.out(
      `Then:               sonde packs install ${tarball} && sonde packs approve ${(JSON.parse(readFileSync(project.manifestFile, 'utf8')) as { name: string }).name}`,
    );
    io.out(`Or publish it:      npm publish ${tarball}`);
    return EXIT_OK;
  },
};
