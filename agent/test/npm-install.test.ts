import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentUser, ensureBuilt, json, prepareFixturePack, removeDir, runCli, tempDirFor } from './support/cli.js';

/** `sonde packs install <tarball>` goes through npm (execFile, --ignore-scripts) into SONDE_HOME/packs. */
const user = agentUser();
let home: string;
let fixture: string;
let tarball: string;

beforeAll(() => {
  ensureBuilt();
  home = tempDirFor(user);
  fixture = prepareFixturePack(user);
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
  if (user) chownSync(tarball, user.uid, user.gid);
});

afterAll(() => {
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

describe('installing a pack with npm', () => {
  it('installs a packed tarball as pending, recorded in the packs prefix, with the host packages linked', async () => {
    const result = await runCli(['packs', 'install', tarball, '--json'], { home, user });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ name: 'fixture', state: 'pending', source: { kind: 'npm' } });
    const prefix = path.join(home, 'packs');
    const recorded = JSON.parse(readFileSync(path.join(prefix, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(recorded.dependencies)).toContain('@sonde/pack-fixture');
    expect(existsSync(path.join(prefix, 'node_modules/@sonde/pack-fixture/index.js'))).toBe(true);
    expect(lstatSync(path.join(prefix, 'node_modules/@sonde/pack-sdk')).isSymbolicLink()).toBe(true);
    const list = json<{ packs: Array<{ name: string; state: string }> }>(await runCli(['packs', 'list', '--json'], { home, user }));
    expect(list.packs).toEqual([expect.objectContaining({ name: 'fixture', state: 'pending' })]);
  });

  it('removes it through npm as well', async () => {
    expect((await runCli(['packs', 'remove', 'fixture', '--json'], { home, user })).code).toBe(0);
    expect(existsSync(path.join(home, 'packs/node_modules/@sonde/pack-fixture'))).toBe(false);
  });
});
