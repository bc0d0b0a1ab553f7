import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionsDigest, type Pack } from '@sonde/pack-sdk';
import { PackRunnerPool, nodeFacts, type PackProcessBundle, type SandboxRunner } from '@sonde/pack-sdk/sandbox';
import { childNodes, makePacksPrefix, packProcessBundle } from './setup.js';

/**
 * The agent's pack processes run from its pack-process bundle (agent/dist/pack-process, agent/scripts/bundle-pack-
 * process.mjs): the runner, pack-sdk and zod from a few files. The pack's own imports must reach the same module
 * instances without reading a copy of either from node_modules, and the process keeps its permission model and grant.
 * Where code comes from is read from the stacks of errors thrown by that code inside the pack process.
 */

const IDENTITY = path.join(import.meta.dirname, 'fixtures/identity-pack');

interface Origin {
  zodFiles: string[];
  sdkFiles: string[];
  resolved: { sdk: string; zod: string; zodV4: string };
  sdkSchemaIsPacksZod: boolean;
  zodV4IsZod: boolean;
}

interface Started {
  runner: SandboxRunner;
  packDir: string;
  nodeModules: string;
  close(): Promise<void>;
}

async function startIdentityPack(nodePath: string, bundle?: PackProcessBundle): Promise<Started> {
  const { root, nodeModules } = makePacksPrefix(bundle);
  const packDir = path.join(nodeModules, 'identity-pack');
  cpSync(IDENTITY, packDir, { recursive: true });
  const manifest = ((await import(pathToFileURL(path.join(IDENTITY, 'index.js')).href)) as { default: Pack }).default.manifest;
  const pool = new PackRunnerPool({ packsDir: path.dirname(nodeModules), deniedPaths: [], nodePath, bundle, onSecurityEvent: () => {} });
  const runner = await pool.activate({
    name: 'identity',
    version: '1.0.0',
    dir: packDir,
    entry: path.join(packDir, 'index.js'),
    manifest,
    permissionsSha256: permissionsDigest(manifest.permissions),
  });
  return {
    runner,
    packDir,
    nodeModules,
    close: async () => {
      await pool.closeAll();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The files of a stack that are not the pack's own. */
const foreign = (files: string[], packDir: string): string[] => files.filter((file) => !file.startsWith(pathToFileURL(packDir).href));

describe.each(childNodes())('a pack process from the agent bundle under %s', (nodePath) => {
  let bundle: PackProcessBundle;
  let started: Started;
  const inBundle = (file: string): boolean => file.startsWith(`${pathToFileURL(bundle.dir).href}/`);

  beforeAll(async () => {
    bundle = packProcessBundle();
    started = await startIdentityPack(nodePath, bundle);
  });
  afterAll(async () => {
    await started?.close();
  });

  it('runs the bundle runner under the permission model, granted only the pack, the re-export packages and the bundle', () => {
    const pid = started.runner.state.pid;
    expect(pid).toBeGreaterThan(1);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(argv).toContain(nodeFacts(nodePath).permissionFlag);
    expect(argv).toContain(bundle.runner);
    const grants = argv.filter((arg) => arg.startsWith('--allow-')).sort();
    expect(grants).toEqual(
      [started.packDir, path.join(started.nodeModules, '@sonde/pack-sdk'), path.join(started.nodeModules, 'zod'), bundle.dir]
        .map((dir) => `--allow-fs-read=${dir}`)
        .sort(),
    );
  });

  it("gives the pack the bundle's pack-sdk and zod: one instance of each, shared with the runner, none read from node_modules", async () => {
    const origin = (await started.runner.run('origin', {})).result as Origin;
    expect(origin.resolved.sdk).toBe(pathToFileURL(path.join(started.nodeModules, '@sonde/pack-sdk/pack-sdk.js')).href);
    expect(origin.resolved.zod).toBe(pathToFileURL(path.join(started.nodeModules, 'zod/zod.js')).href);
    for (const files of [origin.zodFiles, origin.sdkFiles]) {
      const code = foreign(files, started.packDir);
      expect(code.length).toBeGreaterThan(0);
      expect(code.filter((file) => !inBundle(file))).toEqual([]);
    }
    expect(origin.sdkSchemaIsPacksZod).toBe(true);
    expect(origin.zodV4IsZod).toBe(true);

    // The broker's refusal is rejected in the pack by the runner, with the runner's SondeError class.
    const refused = (await started.runner.run('refused', {})).result as { sameSondeError: boolean; code: string; files: string[] };
    expect(refused.code).toBe('SONDE_ERR_PERMISSION_DENIED');
    expect(refused.sameSondeError).toBe(true);
    expect(refused.files).toContain(pathToFileURL(bundle.runner).href);
    expect(foreign(refused.files, started.packDir).filter((file) => !inBundle(file))).toEqual([]);
  });

  it("says it is ready without its probes' JSON Schemas, which the pack process never makes", async () => {
    // ready carries the name, the permissions (checked against the approval) and each probe's capability and limits.
    const probes = started.runner.manifest?.probes ?? [];
    expect(probes.map((probe) => probe.name)).toEqual(['origin', 'refused', 'schemas', 'locale']);
    for (const probe of probes) {
      expect(Object.keys(probe).sort()).toEqual(['capability', 'description', 'maxOutputBytes', 'name', 'openWorld', 'timeoutMs']);
    }
    expect(started.runner.manifest?.name).toBe('identity');
    const { made, pending } = (await started.runner.run('schemas', {})).result as { made: string[]; pending: string[] };
    expect(made).toEqual([]);
    expect(pending).toHaveLength(8);
  });

  it("lets a pack select another of zod's languages, read from the bundle on first use under the permission model", async () => {
    const { locales, german, english } = (await started.runner.run('locale', {})).result as Record<string, unknown>;
    expect(locales).toBeGreaterThan(40);
    expect(german).toBe('Ungültige Eingabe: erwartet Zahl, erhalten string');
    expect(english).toBe('Invalid input: expected number, received string');
  });

  it('vendors packages of re-exports only, no code of either package', () => {
    for (const name of ['@sonde/pack-sdk', 'zod']) {
      const dir = path.join(started.nodeModules, name);
      for (const file of readdirSync(dir).filter((entry) => entry.endsWith('.js'))) {
        const lines = readFileSync(path.join(dir, file), 'utf8').trim().split('\n');
        for (const line of lines.filter((text) => !text.startsWith('//')))
          expect(line).toMatch(new RegExp(`^export (\\* |\\{ default \\} )from "${pathToFileURL(bundle.dir).href}/[\\w.-]+\\.js";$`));
      }
    }
  });
});

describe('the same probes with copies of the host packages (no bundle)', () => {
  it('show code read from node_modules: what the checks above would catch', async () => {
    const started = await startIdentityPack(process.execPath);
    try {
      const origin = (await started.runner.run('origin', {})).result as Origin;
      const copies = pathToFileURL(started.nodeModules).href;
      expect(foreign(origin.sdkFiles, started.packDir).some((file) => file.startsWith(`${copies}/@sonde/pack-sdk/dist/`))).toBe(true);
      expect(foreign(origin.zodFiles, started.packDir).some((file) => file.startsWith(`${copies}/zod/`))).toBe(true);
      expect(origin.sdkSchemaIsPacksZod).toBe(true);
    } finally {
      await started.close();
    }
  });
});
