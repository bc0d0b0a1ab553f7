import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceTarFile } from '../pack/tar.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
let work: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: work });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  if (!existsSync(CLI)) await run('npx', ['tsc', '-b', 'registry'], { cwd: root });
  work = await mkdtemp(join(tmpdir(), 'sonde-release-cli-'));
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('sonde-registry sign-release / verify-release', () => {
  it('signs an npm pack tarball and verifies it; a tampered copy exits 1 with the code', async () => {
    const src = join(work, 'agent');
    await mkdir(join(src, 'dist'), { recursive: true });
    await writeFile(join(src, 'package.json'), JSON.stringify({ name: '@sonde/agent', version: '0.2.0', bin: { sonde: './dist/cli.js' } }));
    await writeFile(join(src, 'dist', 'cli.js'), 'console.log("0.2.0")\n');
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: src });
    const tgz = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);

    expect((await cli('keygen', '--out', 'sonde.json', '--publisher', 'sonde')).code).toBe(0);
    expect((await cli('trust', 'init', '--out', 'trust.json')).code).toBe(0);
    expect((await cli('trust', 'add-key', 'trust.json', '--key', 'sonde.pub.json', '--allow', '@sonde/agent')).code).toBe(0);

    const signed = await cli('sign-release', tgz, '--key', 'sonde.json', '--json');
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({ ok: true, package: '@sonde/agent', version: '0.2.0' });

    const verified = await cli('verify-release', tgz, '--trust', 'trust.json', '--name', '@sonde/agent', '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, packageName: '@sonde/agent', version: '0.2.0', via: 'allow' });

    const text = await cli('verify-release', tgz, '--trust', 'trust.json');
    expect(text.stdout).toContain('OK release @sonde/agent@0.2.0');

    const tampered = join(work, 'tampered.tgz');
    await writeFile(tampered, replaceTarFile(await readFile(tgz), 'dist/cli.js', Buffer.from('evil()'), new Date()));
    const refused = await cli('verify-release', tampered, '--trust', 'trust.json', '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, code: 'SONDE_ERR_PACK_FILE_CHANGED', file: 'dist/cli.js' });

    // The pack verifier does not accept a release: it is not a pack.
    expect((await cli('verify', tgz, '--trust', 'trust.json')).code).toBe(1);
    expect((await cli('sign-release', 'missing.tgz', '--key', 'sonde.json')).code).toBe(2);
  });
});
