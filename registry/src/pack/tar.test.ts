import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { readTar, replaceTarFile } from './tar.js';

const run = promisify(execFile);
let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function gnuTar(files: Record<string, string>, ...flags: string[]): Promise<Buffer> {
  dir = await mkdtemp(join(tmpdir(), 'sonde-tar-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await run('tar', ['-czf', 'out.tgz', ...flags, ...Object.keys(files)], { cwd: dir });
  return readFile(join(dir, 'out.tgz'));
}

describe('tar reader and writer', () => {
  it('reads pax long names and replaces one file while GNU tar still reads the result', async () => {
    const long = `package/${'d'.repeat(90)}/${'f'.repeat(90)}.js`;
    const archive = await gnuTar({ 'package/package.json': '{}', [long]: 'long' }, '--format=posix');
    const { entries } = readTar(archive);
    expect(entries.filter((e) => e.type === 'file').map((e) => [e.path, e.data.toString()])).toEqual(
      expect.arrayContaining([
        ['package.json', '{}'],
        [long.slice('package/'.length), 'long'],
      ]),
    );
    const once = replaceTarFile(archive, 'sonde-signature.json', Buffer.from('one'), new Date());
    const twice = replaceTarFile(once, 'sonde-signature.json', Buffer.from('two'), new Date());
    const signatures = readTar(twice).entries.filter((e) => e.path === 'sonde-signature.json');
    expect(signatures.map((e) => e.data.toString())).toEqual(['two']);
    await writeFile(join(dir, 'twice.tgz'), twice);
    const { stdout } = await run('tar', ['-xzOf', 'twice.tgz', 'package/sonde-signature.json'], { cwd: dir });
    expect(stdout).toBe('two');
  });

  it('refuses a path that climbs out of the package', async () => {
    const archive = await gnuTar({ 'package/x': 'x' }, '--transform=s,^package/x,package/../../etc/evil,', '-P');
    expect(() => readTar(archive)).toThrow(expect.objectContaining({ code: 'SONDE_ERR_PACK_MALFORMED' }));
  });
});
