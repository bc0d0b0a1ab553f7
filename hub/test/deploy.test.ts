import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, EnvSchema } from '../src/config.js';
import { HUB_ENTRY, HUB_NODE_ARGS, SERVE_ARGS } from './start-command.js';

// js-yaml is in the tree already (via eslint); loaded untyped to avoid a new dependency.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
const compose = yaml.load(readFileSync(new URL('../compose.yaml', import.meta.url), 'utf8')) as {
  services: { hub: { command: string[]; ports: string[]; environment: Record<string, string>; build: { dockerfile: string } } };
};

/** Last value of a JSON-array instruction in the final stage. */
function jsonInstruction(name: string): string[] {
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const line = finalStage
    .split('\n')
    .filter((l) => l.startsWith(`${name} `))
    .pop();
  if (!line) throw new Error(`no ${name} in the final stage`);
  return JSON.parse(line.slice(name.length + 1)) as string[];
}

const defaultPort = String(EnvSchema.shape.SONDE_PORT.parse(undefined));

describe('Dockerfile and compose mirror the tested start command', () => {
  it('the image runs `node --max-semi-space-size=2 hub/dist/cli.js serve`', () => {
    const tested = ['node', ...HUB_NODE_ARGS, HUB_ENTRY, ...SERVE_ARGS];
    expect([...jsonInstruction('ENTRYPOINT'), ...jsonInstruction('CMD')]).toEqual(tested);
    expect([...jsonInstruction('ENTRYPOINT'), ...compose.services.hub.command]).toEqual(tested);
    expect(compose.services.hub.build.dockerfile).toBe('hub/Dockerfile');
  });

  it('exposes and publishes the port the config uses', () => {
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${defaultPort}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`SONDE_PORT=${defaultPort}\\b`));
    expect(compose.services.hub.environment.SONDE_PORT).toBe(defaultPort);
    expect(compose.services.hub.ports).toEqual([`127.0.0.1:${defaultPort}:${defaultPort}`]);
    expect(dockerfile).toContain(`http://127.0.0.1:${defaultPort}/api/v1/health`);
  });

  it('names exactly the environment variables of the config schema', () => {
    expect(Object.keys(compose.services.hub.environment).sort()).toEqual([...ENV_VARS].sort());
    const inDockerfile = new Set(dockerfile.match(/SONDE_[A-Z_]+/g));
    expect([...inDockerfile].sort()).toEqual([...ENV_VARS].sort());
  });

  it('the image holds every workspace package the hub resolves at run time, the dashboard included', () => {
    // No Docker engine here to build the image: what the final stage copies is read from the Dockerfile. The hub's
    // own workspace dependencies are links in node_modules to the package folders, so each must be copied itself.
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const copied = [...finalStage.matchAll(/^COPY --from=build \/app\/(\S+) /gm)].map((match) => match[1]);
    const hub = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const folders: Record<string, string> = {
      '@sonde/pack-sdk': 'pack-sdk',
      '@sonde/registry': 'registry',
      '@sonde/web-components': 'web-components',
    };
    const workspaceDeps = Object.keys(hub.dependencies).filter((name) => name.startsWith('@sonde/'));
    expect(workspaceDeps.sort()).toEqual(Object.keys(folders).sort());
    for (const name of workspaceDeps) {
      const folder = folders[name];
      expect(
        copied.some((path) => path === folder || path === `${folder}/package.json`),
        `${name} (${folder}/) is not copied`,
      ).toBe(true);
    }
    // The dashboard: its built modules (hub/src/routes/ui.ts serves only files under dist/), built in the build stage.
    expect(copied).toContain('web-components/dist');
    expect(dockerfile).toMatch(/npm run build -w @sonde\/web-components/);
  });

  it('binds all interfaces inside the container (the default 127.0.0.1 would be unreachable)', () => {
    expect(dockerfile).toMatch(/SONDE_HOST=0\.0\.0\.0/);
    expect(compose.services.hub.environment.SONDE_HOST).toBe('0.0.0.0');
  });
});
