// `npm start`: a hub on an embedded SQLite database plus a local agent with the
// built packs, for trying Sonde on one machine. State lives in .sonde-local/
// (secret, database, agent home); a second run reuses it. Prints the MCP URL,
// an API key and the `claude mcp add` line, then runs until Ctrl-C.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newKeyFile, publicPart, readKeyFile, signedPackCopy, writeKeyFile } from '@sonde/registry';

const root = path.resolve(import.meta.dirname, '..');
// SONDE_LOCAL_STATE moves the state elsewhere (tests run the real script against a scratch folder).
const state = path.resolve(process.env.SONDE_LOCAL_STATE ?? path.join(root, '.sonde-local'));
const hubCli = path.join(root, 'hub/dist/cli.js');
const agentCli = path.join(root, 'agent/dist/cli.js');
const port = process.env.SONDE_PORT ?? '3000';

function secretFile(name, make) {
  const file = path.join(state, name);
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 300_000, maxBuffer: 16 * 1024 * 1024, ...options }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

function step(label, value) {
  console.log(`  ${label.padEnd(9)} ${value}`);
}

// 0711: the agent user must reach its home inside; the secrets here are 0600 files.
mkdirSync(state, { recursive: true });
chmodSync(state, 0o711);
const hubEnv = {
  PATH: process.env.PATH,
  SONDE_SECRET: secretFile('secret', () => randomBytes(36).toString('base64')),
  SONDE_ADMIN_USER: 'admin',
  SONDE_ADMIN_PASSWORD: secretFile('admin-password', () => randomBytes(18).toString('base64url')),
  SONDE_DB_PATH: path.join(state, 'sonde.db'),
  SONDE_HOST: '127.0.0.1',
  SONDE_PORT: port,
  SONDE_LOG_LEVEL: 'info',
};

console.log('Sonde local stack');
const hubLog = path.join(state, 'hub.log');
// The young-generation sizes the shipped Dockerfile and systemd unit use (bench/README.md, items 7 and 8).
const hub = spawn(process.execPath, ['--max-semi-space-size=2', hubCli, 'serve'], { env: hubEnv, stdio: ['ignore', 'pipe', 'pipe'] });
let hubOut = '';
hub.stdout.on('data', (chunk) => {
  hubOut += chunk;
  writeFileSync(hubLog, chunk, { flag: 'a' });
});
hub.stderr.on('data', (chunk) => {
  hubOut += chunk;
  writeFileSync(hubLog, chunk, { flag: 'a' });
});
const hubExit = new Promise((resolve) => hub.once('exit', resolve));
// From here on a Ctrl-C or SIGTERM, even while the hub or the agent is still starting, stops both: never an orphan hub.
let agent;
function stop() {
  agent?.kill('SIGTERM');
  hub.kill('SIGTERM');
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
const listening = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('the hub did not start within 30 s')), 30_000);
  hub.stdout.on('data', () => {
    const match = /"port":(\d+)[^\n]*"msg":"sonde hub listening"/.exec(hubOut);
    if (match) {
      clearTimeout(timer);
      resolve(Number(match[1]));
    }
  });
  void hubExit.then((code) => {
    clearTimeout(timer);
    reject(new Error(`the hub exited with ${code}`));
  });
}).catch((error) => {
  const lastError =
    hubOut
      .split('\n')
      .reverse()
      .find((line) => line.includes('"error"') || line.includes('SONDE_ERR')) ?? hubOut.slice(-500);
  console.error(
    `  hub      failed: ${error.message}\n           ${lastError}\n           (full log: ${hubLog}; is port ${port} in use? set SONDE_PORT)`,
  );
  process.exit(1);
});
const hubUrl = `http://127.0.0.1:${listening}`;
step('hub', `${hubUrl} (database ${hubEnv.SONDE_DB_PATH}, log ${hubLog})`);

async function hubAdmin(args) {
  const result = await run(process.execPath, [hubCli, ...args, '--json'], { env: hubEnv });
  if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')}: ${result.stdout}${result.stderr}`);
  return JSON.parse(result.stdout);
}

// The raw key is shown once by the hub; keep it here so every run can print it again.
const keyFile = path.join(state, 'mcp-key');
let apiKey = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '';
if (apiKey) {
  const check = await fetch(`${hubUrl}/api/v1/agents`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (check.status !== 200) apiKey = '';
}
if (!apiKey) {
  apiKey = (await hubAdmin(['keys', 'create', '--name', `local-admin-${os.hostname()}`, '--role', 'admin'])).rawKey;
  writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
}

// The agent refuses to run as root, so as root it runs as the `sonde` user (or `nobody`).
function agentUser() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['sonde', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

function chownTree(target, user) {
  chownSync(target, user.uid, user.gid);
  if (statSync(target).isDirectory()) for (const entry of readdirSync(target)) chownTree(path.join(target, entry), user);
}

const user = agentUser();
const agentHome = path.join(state, 'agent');
mkdirSync(agentHome, { recursive: true, mode: 0o700 });
chmodSync(agentHome, 0o700);
if (user) chownTree(agentHome, user);
const agentEnv = { PATH: process.env.PATH, HOME: agentHome, SONDE_HOME: agentHome };
const asAgent = user ? { uid: user.uid, gid: user.gid } : {};
const agentName =
  os
    .hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 60) || 'local';

async function startAgent() {
  const readable = await run(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(agentCli)})`], {
    env: agentEnv,
    cwd: agentHome,
    ...asAgent,
  });
  if (readable.code !== 0) {
    return `not started: user ${user?.name} cannot read ${agentCli}; move the checkout where that user can read it, or run npm start as a non-root user`;
  }
  const agentRun = (args) => run(process.execPath, [agentCli, ...args, '--json'], { env: agentEnv, cwd: agentHome, ...asAgent });
  const status = await agentRun(['status']);
  const current = status.code === 0 ? JSON.parse(status.stdout) : {};
  // Enrolled against another hub URL (SONDE_PORT changed since the last run): that agent would dial the old
  // address for ever, so enroll it again with this hub.
  const enrolledWith = typeof current.hub === 'string' ? current.hub.replace(/\/+$/, '') : undefined;
  const enrolled = current.enrolled === true && enrolledWith === hubUrl;
  if (current.enrolled === true && !enrolled) step('agent', `was enrolled with ${enrolledWith}; enrolling it with ${hubUrl}`);
  if (!enrolled) {
    const token = (await hubAdmin(['tokens', 'create', '--name', agentName, '--hub-url', hubUrl])).token;
    const enroll = await agentRun(['enroll', '--hub', hubUrl, '--token', token, '--name', agentName, '--force']);
    if (enroll.code !== 0) return `enrollment failed: ${enroll.stdout}${enroll.stderr}`;
    const packDirs = readdirSync(path.join(root, 'packs'))
      .map((name) => path.join(root, 'packs', name))
      .filter((dir) => existsSync(path.join(dir, 'sonde-pack.json')))
      // Integration packs (Proxmox, ServiceNow, …) belong to the hub, not to an agent.
      .filter((dir) => JSON.parse(readFileSync(path.join(dir, 'sonde-pack.json'), 'utf8')).kind !== 'integration');
    // Packs are always signed. A local trial signs the bundled packs with a development key made here
    // (.sonde-local/dev-publisher.json, 0600) and trusts that key in the agent, as a pack author would.
    const keyFile = path.join(state, 'dev-publisher.json');
    if (!existsSync(keyFile)) await writeKeyFile(keyFile, newKeyFile({ publisher: 'local-development' }));
    const key = await readKeyFile(keyFile);
    const pubFile = path.join(agentHome, 'dev-publisher.pub.json');
    writeFileSync(pubFile, `${JSON.stringify(publicPart(key), null, 2)}\n`);
    if (user) chownSync(pubFile, user.uid, user.gid);
    const trusted = await agentRun(['trust', 'add-key', pubFile]);
    if (trusted.code !== 0) return `trusting the development key failed: ${trusted.stdout}${trusted.stderr}`;
    const signedRoot = path.join(state, 'signed-packs');
    const signedDirs = [];
    for (const dir of packDirs) signedDirs.push((await signedPackCopy(dir, key, path.join(signedRoot, path.basename(dir)))).dir);
    if (user) chownTree(signedRoot, user);
    const installed = await agentRun(['packs', 'install', ...signedDirs]);
    if (installed.code !== 0) return `pack install failed: ${installed.stdout}${installed.stderr}`;
    const names = packDirs.map((dir) => JSON.parse(readFileSync(path.join(dir, 'sonde-pack.json'), 'utf8')).name);
    // Local trial: the operator running npm start approves the bundled packs' permissions.
    const approved = await agentRun(['packs', 'approve', ...names]);
    if (approved.code !== 0) return `pack approval failed: ${approved.stdout}${approved.stderr}`;
  }
  agent = spawn(process.execPath, ['--max-semi-space-size=1', agentCli, 'start', '--json-logs'], {
    env: agentEnv,
    cwd: agentHome,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...asAgent,
  });
  const agentLog = path.join(state, 'agent.log');
  agent.stdout.on('data', (chunk) => writeFileSync(agentLog, chunk, { flag: 'a' }));
  agent.stderr.on('data', (chunk) => writeFileSync(agentLog, chunk, { flag: 'a' }));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${hubUrl}/api/v1/agents`, { headers: { authorization: `Bearer ${apiKey}` } });
    const agents = response.ok ? await response.json() : [];
    const mine = agents.find((entry) => entry.name === agentName);
    if (mine && mine.status !== 'offline') {
      const active = mine.packs.filter((pack) => pack.state === 'active').map((pack) => pack.name);
      return `${agentName} ${mine.status}${user ? ` as user ${user.name}` : ''}, packs: ${active.join(', ') || 'none'} (log ${agentLog})`;
    }
    if (agent.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return `did not come online; see ${agentLog}`;
}

step('agent', await startAgent().catch((error) => `not started: ${error.message}`));
const mcpUrl = `${hubUrl}/mcp`;
step('dashboard', `${hubUrl}/  (sign in as admin, password in ${path.join(state, 'admin-password')})`);
step('MCP URL', mcpUrl);
step('API key', apiKey);
console.log(`\nAdd it to Claude Code:\n  claude mcp add --transport http sonde ${mcpUrl} --header "Authorization: Bearer ${apiKey}"\n`);
console.log('Ctrl-C stops the hub and the agent.');

await hubExit;
agent?.kill('SIGTERM');
