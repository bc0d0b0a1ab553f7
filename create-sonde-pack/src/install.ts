import { spawn } from 'node:child_process';
import { CreateError } from './errors.js';

/**
 * `npm install` in the new pack, its output shown as it runs. npm's own
 * configuration applies (a scoped registry for @sonde in ~/.npmrc or the
 * environment), so a private mirror works the same as the public registry.
 */
export async function npmInstall(directory: string): Promise<void> {
  const code = await new Promise<number>((resolve) => {
    const child = spawn('npm', ['install', '--no-audit', '--no-fund'], { cwd: directory, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', () => resolve(127));
    child.once('exit', (exit) => resolve(exit ?? 1));
  });
  if (code !== 0)
    throw new CreateError(
      'npm install failed',
      `The pack's files are written to ${directory}, but npm install exited with ${code}${code === 127 ? ' (npm was not found on PATH)' : ''}; its output is above.\nA private registry for @sonde packages needs "@sonde:registry=<url>" in .npmrc (see the comments in the pack's .npmrc).`,
      `Fix what npm reported, then: cd ${directory} && npm install`,
    );
}
