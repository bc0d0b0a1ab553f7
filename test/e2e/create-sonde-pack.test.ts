import { randomBytes } from 'node:crypto';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentHome,
  agentUser,
  json,
  removeDir,
  runCli as runAgentCli,
  spawnAgent,
  type AgentProcess,
} from '../../agent/test/support/cli.js';
import { runCli as runHubCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { npm, startRegistry, type NpmResult, type Registry } from './support/verdaccio.js';
import { runCommand } from '../support/run.js';

/**
 * Issue 22, "done when": a pack author with an empty folder and the npm registry only.
 *
 * Set-up (what exists before the author starts): a local registry (verdaccio, no uplinks) holding
 * @sonde/pack-sdk, @sonde/registry and @sonde/pack-tool as `scripts/release-packages.mjs` publishes
 * them; create-sonde-pack as the tarball that script packs (not the workspace); a real hub process and a
 * real agent running as the unprivileged `sonde` user, enrolled to it. npm sees the local registry only
 * for the @sonde and @e2e scopes (a scoped registry in the author's .npmrc): zod, vitest and typescript
 * come from the public registry, as they would for anyone.
 *
 * Then the author's and the operator's commands, each timed: create the pack (npm create from the
 * tarball, which installs it), test, lint, sign (build + validate + sign), publish; trust the publisher
 * key, install from the registry and approve on the agent; and the new probe answers through the MCP SDK
 * client as a tool of its own.
 */
const REPO = path.resolve(import.meta.dirname, '../..');
const SCOPE = '@e2e';
const PACKAGE = `${SCOPE}/sonde-pack-my-pack`;

interface Step {
  who: 'author' | 'operator';
  command: string;
  seconds: number;
}

let registry: Registry;
let scratch: string;
let createTarball: string;
let authorEnv: NodeJS.ProcessEnv;
let hub: RunningHub;
let hubDir: string;
let adminKey: string;
let home: string;
let agent: AgentProcess | undefined;
const user = agentUser();
const steps: Step[] = [];
/** Seconds from the empty folder to the first MCP answer (commands plus the waits between them). */
let fromEmptyFolder: number | undefined;

function tokenOf(npmrc: string): string {
  const match = /:_authToken=(.+)$/m.exec(readFileSync(npmrc, 'utf8'));
  if (!match) throw new Error(`no token in ${npmrc}`);
  return match[1];
}

async function timed(who: Step['who'], command: string, run: () => Promise<NpmResult>): Promise<NpmResult> {
  const started = performance.now();
  const result = await run();
  steps.push({ who, command, seconds: Math.round((performance.now() - started) / 100) / 10 });
  if (result.code !== 0) throw new Error(`${command} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

beforeAll(async () => {
  registry = await startRegistry();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-create-'));
  const host = registry.url.replace(/^http:/, '');
  // The release script publishes with the registry's test user (its token in registry.npmrc).
  const release = path.join(scratch, 'release');
  const released = await runCommand(
    process.execPath,
    [path.join(REPO, 'scripts/release-packages.mjs'), '--registry', registry.url, '--out', release],
    {
      cwd: REPO,
      env: { ...process.env, npm_config_userconfig: registry.npmrc, npm_config_cache: registry.npmCache },
      timeoutMs: 180_000,
    },
  );
  if (released.code !== 0) throw new Error(`release-packages failed:\n${released.stdout}\n${released.stderr}`);
  createTarball = path.join(
    release,
    readdirSync(release).find((file) => file.startsWith('create-sonde-pack-'))!,
  );

  // The author: a home of their own, npm's public registry by default, the local one for two scopes.
  const authorHome = path.join(scratch, 'author-home');
  mkdirSync(authorHome);
  const npmrc = path.join(authorHome, '.npmrc');
  writeFileSync(
    npmrc,
    `@sonde:registry=${registry.url}\n${SCOPE}:registry=${registry.url}\n${host}:_authToken=${tokenOf(registry.npmrc)}\nfund=false\naudit=false\nupdate-notifier=false\n`,
  );
  authorEnv = {
    // How this machine reaches the public registry (a proxy, its CA): Node 24 from npm does not read the system CA
    // store as Debian's Node 20 does, so without these npm retries a TLS error for minutes.
    ...Object.fromEntries(
      Object.entries(process.env).filter(([name]) =>
        /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|npm_config_cafile|https?_proxy|no_proxy)$/i.test(name),
      ),
    ),
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: authorHome,
    npm_config_userconfig: npmrc,
    // The machine's npm cache (public packages are usually warm there); the local registry's packages are new each run.
    npm_config_cache: path.join(os.homedir(), '.npm'),
    XDG_CONFIG_HOME: path.join(authorHome, '.config'),
  };

  // The operator's local hub and agent, already running.
  hubDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-create-hub-'));
  const hubEnv = {
    SONDE_SECRET: randomBytes(32).toString('base64'),
    SONDE_DB_PATH: path.join(hubDir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    SONDE_PORT: '0',
    SONDE_HOST: '127.0.0.1',
    SONDE_HEARTBEAT_MS: '1000',
    SONDE_LOG_LEVEL: 'info',
  };
  hub = await startHubProcess(hubEnv);
  const hubCli = async (args: string[]): Promise<Record<string, unknown>> => {
    const result = await runHubCli([...args, '--json'], hubEnv);
    if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  adminKey = (await hubCli(['keys', 'create', '--name', 'e2e-create', '--role', 'admin'])).rawKey as string;
  const token = (await hubCli(['tokens', 'create', '--name', 'e2e-create-agent', '--hub-url', hub.url])).token as string;
  home = agentHome(user, 'sonde-e2e-create-agent-');
  // The agent fetches packs with `npm pack` as its own user: its .npmrc names the pack's scope registry.
  writeFileSync(path.join(home, '.npmrc'), `${SCOPE}:registry=${registry.url}\nupdate-notifier=false\n`);
  if (user) chownSync(path.join(home, '.npmrc'), user.uid, user.gid);
  json(await runAgentCli(['enroll', '--hub', hub.url, '--token', token, '--name', 'e2e-create-agent', '--json'], { home, user }));
  agent = spawnAgent({ home, user });
  await agent.waitForOutput(/registered with hub/, 30_000);
}, 400_000);

afterAll(async () => {
  await agent?.stop();
  await hub?.stop();
  await registry?.stop();
  if (home) removeDir(home);
  if (hubDir) rmSync(hubDir, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (steps.length) {
    const total = Math.round(steps.reduce((sum, step) => sum + step.seconds, 0) * 10) / 10;
    const table = steps.map((step) => `  ${step.who.padEnd(8)} ${String(step.seconds).padStart(6)} s  ${step.command}`).join('\n');
    const answered = fromEmptyFolder === undefined ? 'no MCP answer' : `first MCP answer ${fromEmptyFolder} s after the empty folder`;
    process.stdout.write(`\ncreate-sonde-pack end to end: ${steps.length} commands, ${total} s in commands, ${answered}\n${table}\n`);
    mkdirSync(path.join(REPO, '.test-results'), { recursive: true });
    writeFileSync(
      path.join(REPO, '.test-results/create-sonde-pack-e2e.json'),
      `${JSON.stringify({ commands: steps.length, commandSeconds: total, fromEmptyFolderSeconds: fromEmptyFolder ?? null, steps }, null, 2)}\n`,
    );
  }
});

describe('npm create sonde-pack → signed pack → MCP tool on a real agent', () => {
  it('runs from an empty folder with the SDK from a local registry and answers through MCP', async () => {
    const work = path.join(scratch, 'empty');
    mkdirSync(work);
    const started = performance.now();

    // `npm create sonde-pack@latest my-pack -- …`, with the packed scaffolder instead of a registry lookup.
    await timed('author', `npm exec --package=create-sonde-pack-*.tgz -- create-sonde-pack my-pack --scope ${SCOPE} --yes`, () =>
      npm(['exec', '--yes', `--package=${createTarball}`, '--', 'create-sonde-pack', 'my-pack', '--scope', SCOPE, '--yes'], {
        cwd: work,
        env: authorEnv,
        timeoutMs: 300_000,
      }),
    );
    const dir = path.join(work, 'my-pack');
    // The SDK came from the local registry as a real package, not a workspace link.
    const sdk = JSON.parse(readFileSync(path.join(dir, 'node_modules/@sonde/pack-sdk/package.json'), 'utf8'));
    expect(sdk).toMatchObject({ name: '@sonde/pack-sdk', peerDependencies: { zod: expect.any(String) } });
    expect(JSON.stringify(sdk.exports)).not.toContain('sonde-source');

    const tested = await timed('author', 'npm test', () => npm(['test'], { cwd: dir, env: authorEnv, timeoutMs: 120_000 }));
    const plain = tested.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
    expect(plain).toMatch(/Tests\s+4 passed/);
    await timed('author', 'npm run lint', () => npm(['run', 'lint'], { cwd: dir, env: authorEnv }));
    const signed = await timed('author', 'npm run sign', () => npm(['run', 'sign'], { cwd: dir, env: authorEnv, timeoutMs: 120_000 }));
    expect(signed.stdout).toMatch(/0 errors/);
    const tarball = path.join(
      dir,
      readdirSync(dir).find((file) => file.endsWith('.tgz'))!,
    );
    await timed('author', 'npm publish e2e-sonde-pack-my-pack-0.1.0.tgz', () => npm(['publish', tarball], { cwd: dir, env: authorEnv }));

    // The operator trusts the author's public key once, then installs from the registry and approves.
    const pub = path.join(authorEnv.XDG_CONFIG_HOME!, 'sonde/publisher.pub.json');
    expect(existsSync(pub)).toBe(true);
    const pubCopy = path.join(home, 'author.pub.json');
    copyFileSync(pub, pubCopy);
    if (user) chownSync(pubCopy, user.uid, user.gid);
    const agentStep = (command: string, args: string[]) =>
      timed('operator', command, () => runAgentCli([...args, '--json'], { home, user }));
    await agentStep('sonde trust add-key author.pub.json', ['trust', 'add-key', pubCopy]);
    const installed = await agentStep(`sonde packs install ${PACKAGE}`, ['packs', 'install', PACKAGE]);
    expect(installed.stdout).toContain('my-pack');
    await agentStep('sonde packs approve my-pack', ['packs', 'approve', 'my-pack']);

    // The running agent reloads on approval; the probe becomes a tool of its own.
    const client = new Client({ name: 'e2e-create-sonde-pack', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${hub.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${adminKey}` } } }),
    );
    let toolName: string | undefined;
    const deadline = Date.now() + 30_000;
    while (!toolName && Date.now() < deadline) {
      toolName = (await client.listTools()).tools.map((tool) => tool.name).find((name) => name === 'my_pack_os_info');
      if (!toolName) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(toolName, agent?.output()).toBe('my_pack_os_info');
    const answer = (await client.callTool({ name: toolName!, arguments: { agent: 'e2e-create-agent' } })) as {
      isError?: boolean;
      content: Array<{ type: string; text?: string }>;
    };
    fromEmptyFolder = Math.round((performance.now() - started) / 100) / 10;
    await client.close();
    expect(answer.isError, JSON.stringify(answer)).toBeFalsy();
    const text = answer.content.map((part) => part.text ?? '').join('');
    // The agent's real host: its kernel and distribution, read by the new pack's probe as the sonde user.
    expect(text).toContain(os.release());
    expect(text).toMatch(/"id":\s*"debian"/);
  }, 600_000);
});
