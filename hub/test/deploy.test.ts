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

  it('binds all interfaces inside the container (the default 127.0.0.1 would be unreachable)', () => {
    expect(dockerfile).toMatch(/SONDE_HOST=0\.0\.0\.0/);
    expect(compose.services.hub.environment.SONDE_HOST).toBe('0.0.0.0');
  });
});
