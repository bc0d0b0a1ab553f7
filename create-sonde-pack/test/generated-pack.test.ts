import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create, linkRepoModules, run, scratch } from './support.js';

/**
 * "The generated pack passes its own tests, lint and build the moment it is
 * created": each template is generated and its own scripts run, against the
 * repository's packages (the registry flow is e2e.test.ts).
 */
const tmp = scratch();
afterAll(() => tmp.cleanup());

describe.each(['system', 'integration'] as const)('a fresh %s pack', (template) => {
  it('builds, passes its tests, lint and validate, and try runs its probe', async () => {
    const made = await create([`${template}-pack`, '--template', template, '--yes', '--no-install'], tmp.dir);
    expect(made.code, made.stderr).toBe(0);
    const dir = path.join(tmp.dir, `${template}-pack`);
    linkRepoModules(dir);
    for (const script of ['build', 'test', 'lint', 'validate']) {
      const result = await run('npm', ['run', script], dir);
      expect(result.code, `npm run ${script}:\n${result.stdout}\n${result.stderr}`).toBe(0);
    }
    if (template === 'system') {
      const tried = await run('npx', ['sonde-pack', 'try', 'os.info', '--json'], dir);
      expect(tried.code, tried.stderr).toBe(0);
      const report = JSON.parse(tried.stdout);
      expect(report.result).toMatchObject({ id: expect.any(String), kernel: expect.any(String) });
      expect(report.checks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ effect: 'exec', target: 'uname -r', allowed: true, by: expect.stringContaining('commands[0]') }),
        ]),
      );
    }
  }, 180_000);
});
