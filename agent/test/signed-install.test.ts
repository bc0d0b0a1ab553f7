import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newKeyFile, replaceTarFile, signPackTarball } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, TEST_PUBLISHER, agentHome, agentUser, ensureBuilt, json, prepareFixturePack, removeDir, runCli } from './support/cli.js';

/**
 * `sonde packs install <tarball>`: verified in memory before anything is
 * written, then unpacked into SONDE_HOME/packs/store/<package>/<version>.
 * Every refusal leaves the store as it was.
 */
const user = agentUser();
let home: string;
let fixture: string;
let tarball: string;

function own(file: string): string {
  if (user) chownSync(file, user.uid, user.gid);
  return file;
}

function variant(name: string, change: (gzipped: Buffer) => Buffer): string {
  const file = path.join(path.dirname(fixture), name);
  writeFileSync(file, change(readFileSync(tarball)));
  return own(file);
}

beforeAll(async () => {
  ensureBuilt();
  home = agentHome(user);
  fixture = await prepareFixturePack(user);
  const out = path.dirname(fixture);
  const name = execFileSync('npm', ['pack', '--pack-destination', out, '--ignore-scripts'], {
    cwd: fixture,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'silent' },
  })
    .trim()
    .split('\n')
    .pop()!;
  tarball = path.join(out, name);
  // Sign what is published: npm pack may rewrite package.json.
  await signPackTarball(tarball, TEST_PUBLISHER);
  own(tarball);
});

afterAll(() => {
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

const store = (): string => path.join(home, 'packs/store');

describe('installing a signed pack tarball', () => {
  it('refuses a tarball whose code changed after signing, and writes nothing', async () => {
    const tampered = variant('tampered.tgz', (gz) => replaceTarFile(gz, 'index.js', Buffer.from('export default {};\n'), new Date()));
    const result = await runCli(['packs', 'install', tampered, '--json'], { home, user });
    expect(result.code).toBe(7);
    expect(json(result)).toMatchObject({
      ok: false,
      error: { code: 'SONDE_ERR_PACK_REFUSED', verifyCode: 'SONDE_ERR_PACK_FILE_CHANGED', file: 'index.js' },
    });
    expect(existsSync(store()) ? readdirSync(store()) : []).toEqual([]);
  });

  it('refuses an unsigned tarball and one signed by an unknown key', async () => {
    // An unsigned copy: re-pack the fixture folder without its signature file.
    rmSync(path.join(fixture, 'sonde-signature.json'));
    const out = path.join(path.dirname(fixture), 'unsigned');
    mkdirSync(out);
    const name = execFileSync('npm', ['pack', '--pack-destination', out, '--ignore-scripts'], { cwd: fixture, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!;
    const bare = own(path.join(out, name));
    expect(json(await runCli(['packs', 'install', bare, '--json'], { home, user }))).toMatchObject({
      error: { code: 'SONDE_ERR_PACK_REFUSED', verifyCode: 'SONDE_ERR_PACK_UNSIGNED' },
    });
    const stranger = path.join(path.dirname(fixture), 'stranger.tgz');
    await signPackTarball(bare, newKeyFile({ publisher: 'stranger' }), { out: stranger });
    own(stranger);
    expect(json(await runCli(['packs', 'install', stranger, '--json'], { home, user }))).toMatchObject({
      error: { code: 'SONDE_ERR_PACK_REFUSED', verifyCode: 'SONDE_ERR_PACK_UNKNOWN_KEY' },
    });
    expect(existsSync(store()) ? readdirSync(store()) : []).toEqual([]);
  });

  it('installs a signed tarball as pending into the versioned store and reports who signed it', async () => {
    const result = await runCli(['packs', 'install', tarball, '--json'], { home, user });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(json(result)).toMatchObject({
      name: 'fixture',
      version: '1.0.0',
      state: 'pending',
      outcome: 'pending',
      keyId: TEST_PUBLISHER.keyId,
    });
    expect(existsSync(path.join(store(), '@sonde/pack-fixture/1.0.0/sonde-signature.json'))).toBe(true);
    const list = json<{ packs: Array<{ name: string; state: string }> }>(await runCli(['packs', 'list', '--json'], { home, user }));
    expect(list.packs).toEqual([expect.objectContaining({ name: 'fixture', state: 'pending', versions: ['1.0.0'] })]);
  });

  it('re-verifies at every read: a file changed on disk turns the pack failed, naming the file', async () => {
    const installed = path.join(store(), '@sonde/pack-fixture/1.0.0/index.js');
    const original = readFileSync(installed);
    writeFileSync(installed, `${original.toString()}\n// changed\n`);
    const list = json<{ packs: Array<{ state: string; code?: string; reason?: string }> }>(
      await runCli(['packs', 'list', '--json'], { home, user }),
    );
    expect(list.packs[0]).toMatchObject({ state: 'failed', code: 'SONDE_ERR_PACK_FILE_CHANGED' });
    expect(list.packs[0]?.reason).toMatch(/index\.js/);
    const approve = await runCli(['packs', 'approve', 'fixture', '--json'], { home, user });
    expect(approve.code).toBe(7);
    writeFileSync(installed, original);
  });

  it('shows a progress bar on a terminal, and none with --json', async () => {
    // `script` gives the CLI a pseudo-terminal; output is what a person at the terminal would see.
    const onTerminal = (args: string[]): Promise<string> =>
      new Promise((resolve) => {
        const command = [process.execPath, CLI, ...args].map((part) => `'${part}'`).join(' ');
        execFile(
          'script',
          ['-qec', command, '/dev/null'],
          { env: { PATH: process.env.PATH, HOME: home, SONDE_HOME: home, TERM: 'xterm' }, cwd: home, uid: user?.uid, gid: user?.gid },
          (_error, stdout) => resolve(stdout),
        );
      });
    const shown = await onTerminal(['packs', 'install', tarball]);
    // The bar redraws at most ten times a second, so a fast install may show it only empty; the glyphs are always drawn.
    expect(shown).toMatch(/[░█]{5,}/);
    expect(shown).toContain('Installed @sonde/pack-fixture 1.0.0');
    const quiet = await onTerminal(['packs', 'install', tarball, '--json']);
    expect(quiet).not.toMatch(/[░█]/);
    expect(quiet).toContain('"outcome"');
  });

  it('keeps a hash-chained record of pack operations (sonde audit --packs) that shows an edit', async () => {
    const audit = json<{ events: Array<{ action: string; pack: string; outcome: string }>; verify: { ok: boolean } }>(
      await runCli(['audit', '--packs', '--verify', '--json'], { home, user }),
    );
    expect(audit.verify.ok).toBe(true);
    expect(audit.events).toContainEqual(expect.objectContaining({ action: 'install', pack: 'fixture', outcome: 'pending' }));
    expect(audit.events).toContainEqual(expect.objectContaining({ action: 'install', outcome: 'refused' }));
    const file = path.join(home, 'pack-events.jsonl');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('"outcome":"refused"', '"outcome":"pending"'));
    const broken = await runCli(['audit', '--packs', '--verify', '--json'], { home, user });
    expect(broken.code).toBe(8);
    expect(json(broken)).toMatchObject({ verify: { ok: false } });
    writeFileSync(file, original);
  });

  it('removes every version of it', async () => {
    expect((await runCli(['packs', 'remove', 'fixture', '--json'], { home, user })).code).toBe(0);
    expect(existsSync(path.join(store(), '@sonde/pack-fixture'))).toBe(false);
  });
});
