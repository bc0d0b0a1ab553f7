import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packProcessBundle } from './pack-process.js';

const DESCRIPTION = {
  runner: 'runner.js',
  packages: { '@sonde/pack-sdk': { version: '0.1.0', exports: { '.': { file: 'pack-sdk.js', default: false } } } },
};

describe('packProcessBundle', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A source checkout's layout: <repo>/agent with dist/pack-process, <repo>/pack-sdk/dist/.tsbuildinfo. */
  function checkout(description: unknown = DESCRIPTION): { agent: string; manifest: string; sdkBuild: string } {
    root = mkdtempSync(path.join(os.tmpdir(), 'sonde-pack-process-'));
    const agent = path.join(root, 'agent');
    mkdirSync(path.join(agent, 'dist/pack-process'), { recursive: true });
    mkdirSync(path.join(root, 'pack-sdk/dist'), { recursive: true });
    const manifest = path.join(agent, 'dist/pack-process/host-packages.json');
    writeFileSync(manifest, JSON.stringify(description));
    const sdkBuild = path.join(root, 'pack-sdk/dist/.tsbuildinfo');
    writeFileSync(sdkBuild, '{}');
    return { agent, manifest, sdkBuild };
  }

  it('takes the bundle when it is at least as new as pack-sdk’s TypeScript build', () => {
    const { agent, manifest, sdkBuild } = checkout();
    utimesSync(sdkBuild, new Date(1_000_000), new Date(1_000_000));
    utimesSync(manifest, new Date(2_000_000), new Date(2_000_000));
    const bundle = packProcessBundle(agent);
    expect(bundle?.runner).toBe(path.join(bundle?.dir ?? '', 'runner.js'));
    expect(bundle?.packages['@sonde/pack-sdk']?.exports['.']?.file).toBe('pack-sdk.js');
  });

  it('leaves a stale bundle (pack-sdk rebuilt since) and a missing one to the per-module runner', () => {
    const { agent, manifest, sdkBuild } = checkout();
    utimesSync(manifest, new Date(1_000_000), new Date(1_000_000));
    utimesSync(sdkBuild, new Date(2_000_000), new Date(2_000_000));
    expect(packProcessBundle(agent)).toBeUndefined();
    rmSync(manifest);
    expect(packProcessBundle(agent)).toBeUndefined();
  });

  it('refuses a description that points outside its folder or lacks pack-sdk, naming the file', () => {
    const { agent, manifest, sdkBuild } = checkout({ ...DESCRIPTION, runner: '../../evil.js' });
    rmSync(sdkBuild);
    expect(() => packProcessBundle(agent)).toThrow(`${manifest}: not a pack-process bundle description`);
    writeFileSync(manifest, JSON.stringify({ runner: 'runner.js', packages: {} }));
    expect(() => packProcessBundle(agent)).toThrow(/does not serve @sonde\/pack-sdk/);
    writeFileSync(manifest, '{');
    expect(() => packProcessBundle(agent)).toThrow(/cannot read the pack-process bundle's description/);
  });
});
