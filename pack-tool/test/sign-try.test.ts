import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadTrust, readPublicKeyFile, verifyPackTarball } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPack, run, tool } from './support.js';

const edit = (dir: string, file: string, change: (text: string) => string): void =>
  writeFileSync(path.join(dir, file), change(readFileSync(path.join(dir, file), 'utf8')));

let system: Awaited<ReturnType<typeof builtPack>>;
let integration: Awaited<ReturnType<typeof builtPack>>;
beforeAll(async () => {
  [system, integration] = await Promise.all([builtPack('system'), builtPack('integration')]);
}, 180_000);
afterAll(() => {
  system?.cleanup();
  integration?.cleanup();
});

describe('sonde-pack sign', () => {
  it('makes a publisher key on first use and signs a tarball that verifies against a store trusting that key', async () => {
    const dir = system.copy('sign');
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: path.join(dir, '.config-home') };
    delete env.SONDE_PUBLISHER_KEY;
    const result = await tool(['sign', '--json'], dir, env);
    expect(result.code, result.stderr).toBe(0);
    const signed = JSON.parse(result.stdout);
    expect(signed.createdKey).toBe(true);
    expect(statSync(signed.key).mode & 0o777).toBe(0o600);
    const pub = await readPublicKeyFile(signed.publicKey);
    const trust = loadTrust({
      type: 'sonde-trust-store',
      keys: [{ keyId: pub.keyId, publicKey: pub.publicKey, publisher: 'me' }],
      policy: { allow: [{ publisher: 'me' }] },
    });
    const verified = await verifyPackTarball(signed.tarball, trust);
    expect(verified).toMatchObject({ ok: true, pack: 'demo', version: '0.1.0', integrity: signed.integrity });
    // The second run reuses the key.
    const again = JSON.parse((await tool(['sign', '--json'], dir, env)).stdout);
    expect(again).toMatchObject({ createdKey: false, keyId: signed.keyId });
  });

  it(
    'a new version is one edit: package.json alone, then build; validate finds nothing and the signed tarball has it',
    { timeout: 90_000 },
    async () => {
      const dir = system.copy('sign-bump');
      expect(readFileSync(path.join(dir, 'src/index.ts'), 'utf8')).not.toMatch(/version:/);
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      pkg.version = '0.3.0';
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
      const built = await run('npm', ['run', 'build'], dir);
      expect(built.code, built.stdout + built.stderr).toBe(0);
      const validate = await tool(['validate', '--json'], dir);
      expect(JSON.parse(validate.stdout).findings).toEqual([]);
      const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: path.join(dir, '.c') };
      delete env.SONDE_PUBLISHER_KEY;
      const signed = await tool(['sign', '--json'], dir, env);
      expect(signed.code, signed.stderr).toBe(0);
      expect(JSON.parse(signed.stdout).tarball).toMatch(/-0\.3\.0\.tgz$/);
      // An old pack that still names another version in definePack is warned, not refused: package.json's wins.
      edit(dir, 'src/index.ts', (text) => text.replace("name: 'demo',", "name: 'demo',\n  version: '0.1.0',"));
      expect((await run('npm', ['run', 'build'], dir)).code).toBe(0);
      const old = JSON.parse((await tool(['validate', '--json'], dir)).stdout);
      expect(old.findings).toEqual([
        expect.objectContaining({
          rule: 'manifest/version',
          level: 'warning',
          message: expect.stringMatching(/remove version from definePack/),
        }),
      ]);
      expect(JSON.parse(readFileSync(path.join(dir, 'sonde-pack.json'), 'utf8')).version).toBe('0.3.0');
    },
  );

  it('refuses to sign a pack that does not validate, and an explicit key file that is missing', async () => {
    const dir = system.copy('sign-refused');
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    pkg.version = '0.2.0';
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    const stale = await tool(['sign'], dir, { ...process.env, XDG_CONFIG_HOME: path.join(dir, '.c') });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/sonde-pack\.json differs from the built definition: run npm run build/);
    expect(existsSync(path.join(dir, '.c'))).toBe(false);
    const missingKey = await tool(['sign', '--key', path.join(dir, 'nope.json')], system.copy('sign-nokey'));
    expect(missingKey.code).toBe(1);
    expect(missingKey.stderr).toMatch(/nope\.json/);
  });
});

describe('sonde-pack try', () => {
  it('runs a system probe on this host and names the declaration behind each check', async () => {
    const dir = system.copy('try');
    const result = await tool(['try', 'demo.os.info'], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✔ exec uname -r {2}← commands\[0\]\.args\[0\] uname \["-r"\]/);
    expect(result.stdout).toMatch(/✔ readFile \/etc\/os-release {2}← files\[0\] \/etc\/os-release/);
  });

  it('runs an integration probe against an endpoint and shows a refused check when the permission does not cover it', async () => {
    const dir = integration.copy('try-http');
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      res.writeHead(req.headers.authorization === 'Bearer t0k3n-abcdef' ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'UP', version: '9.9', components: { db: { status: 'UP' } } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const ok = JSON.parse(
        (await tool(['try', 'service.health', '--endpoint', endpoint, '--credential', 'apiToken=t0k3n-abcdef', '--json'], dir)).stdout,
      );
      expect(ok).toMatchObject({ ok: true, result: { status: 'up', version: '9.9' } });
      expect(ok.checks[0]).toMatchObject({
        effect: 'http',
        allowed: true,
        by: expect.stringMatching(/^network\[1\] http:\/\/\{endpoint\}/),
      });
      writeFileSync(
        path.join(dir, 'dist/index.js'),
        readFileSync(path.join(dir, 'dist/index.js'), 'utf8').replaceAll("paths: ['/api/health']", "paths: ['/other']"),
      );
      const refused = await tool(['try', 'service.health', '--endpoint', endpoint, '--json'], dir);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({
        ok: false,
        error: { code: 'SONDE_ERR_PERMISSION_DENIED' },
        checks: [{ effect: 'http', allowed: false }],
      });
    } finally {
      server.close();
    }
  });

  it('an unknown probe or bad --params exits 2 with the probes it has', async () => {
    const dir = system.copy('try-usage');
    const unknown = await tool(['try', 'disk.usage'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no probe disk\.usage[\s\S]*Probes: os\.info/);
    const badJson = await tool(['try', 'os.info', '--params', '{nope'], dir);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('--params is not JSON');
  });
});
