import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPack, tool } from './support.js';

/** `sonde-pack validate` on a real built pack, broken one way per test. */
let pack: Awaited<ReturnType<typeof builtPack>>;
beforeAll(async () => {
  pack = await builtPack('system');
}, 120_000);
afterAll(() => pack?.cleanup());

const edit = (dir: string, file: string, change: (text: string) => string): void =>
  writeFileSync(path.join(dir, file), change(readFileSync(path.join(dir, file), 'utf8')));
const findings = async (dir: string, extra: string[] = []) => {
  const result = await tool(['validate', '--json', ...extra], dir);
  return {
    code: result.code,
    report: JSON.parse(result.stdout) as {
      errors: number;
      findings: Array<{ rule: string; level: string; file?: string; line?: number; message: string }>;
    },
  };
};

describe('sonde-pack validate', () => {
  it('a fresh pack has no findings and exits 0', async () => {
    const { code, report } = await findings(pack.copy('fresh'));
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
  });

  it('the SDK or zod as a runtime dependency (or missing from peers) is an error naming what to change', async () => {
    const dir = pack.copy('deps');
    edit(dir, 'package.json', (text) => {
      const pkg = JSON.parse(text);
      pkg.dependencies = { '@sonde/pack-sdk': pkg.peerDependencies['@sonde/pack-sdk'], lodash: '^4.0.0' };
      delete pkg.peerDependencies['@sonde/pack-sdk'];
      return JSON.stringify(pkg);
    });
    const { code, report } = await findings(dir);
    expect(code).toBe(1);
    const messages = report.findings.filter((f) => f.rule.startsWith('package/')).map((f) => f.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/move @sonde\/pack-sdk from "dependencies" to "peerDependencies"/),
        expect.stringMatching(/dependency lodash is not bundled/),
      ]),
    );
  });

  it('imports with host effects and writes are errors at file:line, also in --source-only (lint) mode', async () => {
    const dir = pack.copy('imports');
    edit(
      dir,
      'src/probe.ts',
      (text) =>
        `import { readFileSync } from 'node:fs';\n${text}\nexport const leak = () => process.env.HOME + String(readFileSync);\nexport const put = { method: 'DELETE' };\n`,
    );
    const { code, report } = await findings(dir, ['--source-only']);
    expect(code).toBe(1);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'imports/host-effect', file: 'src/probe.ts', line: 1, message: expect.stringMatching(/node:fs/) }),
        expect.objectContaining({ rule: 'imports/host-effect', message: expect.stringMatching(/process\.env/) }),
        expect.objectContaining({ rule: 'read-only/http-method', level: 'error', message: expect.stringMatching(/DELETE/) }),
      ]),
    );
  });

  it('a command that writes, a stale manifest and a broad glob are found on the built pack', async () => {
    const dir = pack.copy('writes');
    edit(dir, 'dist/index.js', (text) =>
      text
        .replace(/commands: \[\{ binary: 'uname'/, "commands: [{ binary: 'systemctl', args: [['restart', '<name>']] }, { binary: 'uname'")
        .replace("files: ['/etc/os-release', '/usr", "files: ['/etc/**', '/etc/os-release', '/usr"),
    );
    const { code, report } = await findings(dir);
    expect(code).toBe(1);
    const rules = report.findings.map((f) => `${f.level} ${f.rule}`);
    expect(rules).toEqual(expect.arrayContaining(['error read-only/command', 'error manifest/stale', 'warning permissions/broad']));
    expect(report.findings.find((f) => f.rule === 'read-only/command')?.message).toMatch(
      /systemctl restart <name>.*"restart" changes state/,
    );
  });

  it('writes SARIF 2.1.0 with the rule ids and locations for CI', async () => {
    const dir = pack.copy('sarif');
    edit(dir, 'src/parse.ts', (text) => `import net from 'node:net';\n${text}\nexport const n = net;\n`);
    const sarifFile = path.join(dir, 'out.sarif');
    const result = await tool(['validate', '--sarif', sarifFile], dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/error\s+imports\/host-effect\s+src\/parse\.ts:1:/);
    const sarif = JSON.parse(readFileSync(sarifFile, 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    const [first] = sarif.runs[0].results;
    expect(first).toMatchObject({
      ruleId: 'imports/host-effect',
      level: 'error',
      locations: [{ physicalLocation: { artifactLocation: { uri: 'src/parse.ts' }, region: { startLine: 1 } } }],
    });
    expect(sarif.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toContain('imports/host-effect');
  });

  it('a probe schema JSON Schema cannot express is a manifest/schema finding naming the probe, not a crash', async () => {
    const dir = pack.copy('bigint');
    writeFileSync(
      path.join(dir, 'dist/bigint.js'),
      [
        "import { definePack } from '@sonde/pack-sdk';",
        "import { z } from 'zod';",
        'export default definePack({',
        "  name: 'demo',",
        "  description: 'A pack whose result schema JSON Schema cannot express.',",
        "  permissions: { files: ['/proc/uptime'] },",
        "  probes: [{ name: 'big', description: 'A bigint.', params: z.object({}), result: z.object({ big: z.bigint() }),",
        '    handler: () => Promise.resolve({ big: 1n }) }],',
        '});',
        '',
      ].join('\n'),
    );
    edit(dir, 'package.json', (text) => text.replaceAll('./dist/index.js', './dist/bigint.js'));
    const { code, report } = await findings(dir);
    expect(code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        rule: 'manifest/schema',
        level: 'error',
        message: expect.stringMatching(/demo\.big result: .*JSON Schema/),
      }),
    );
  });

  it('an unbuilt pack is a clear error, and bad command lines exit 2', async () => {
    const dir = pack.copy('unbuilt');
    edit(dir, 'package.json', (text) => text.replaceAll('./dist/index.js', './dist/missing.js'));
    const { report } = await findings(dir);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'manifest/load', message: expect.stringMatching(/not built.*npm run build/) }),
      ]),
    );
    const typo = await tool(['validate', '--sarf', 'x'], dir);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean --sarif?');
    const unknown = await tool(['vaildate'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean validate?');
  });
});
