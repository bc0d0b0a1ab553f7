import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentError } from './errors.js';

/** Every file the agent keeps in SONDE_HOME. Keys and secrets are 0600, the directory 0700. */
export interface HomePaths {
  home: string;
  config: string;
  identity: string;
  privateKey: string;
  /** The agent's Ed25519 wire key (signs every frame) when enrolled with Ed25519. */
  wireKey: string;
  /** The hub's Ed25519 wire key, certified by the hub CA: pinned like the CA. */
  hubWireKey: string;
  cert: string;
  caCert: string;
  apiKey: string;
  approvals: string;
  status: string;
  audit: string;
  defaultPacksDir: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.SONDE_HOME;
  return path.resolve(fromEnv && fromEnv.length > 0 ? fromEnv : path.join(os.homedir(), '.sonde'));
}

export function homePaths(home: string = resolveHome()): HomePaths {
  return {
    home,
    config: path.join(home, 'config.json'),
    identity: path.join(home, 'identity.json'),
    privateKey: path.join(home, 'agent.key.pem'),
    wireKey: path.join(home, 'agent.wire-key.pem'),
    hubWireKey: path.join(home, 'hub.wire-key.json'),
    cert: path.join(home, 'agent.cert.pem'),
    caCert: path.join(home, 'ca.cert.pem'),
    apiKey: path.join(home, 'agent.api-key'),
    approvals: path.join(home, 'approvals.json'),
    status: path.join(home, 'status.json'),
    audit: path.join(home, 'audit.json'),
    defaultPacksDir: path.join(home, 'packs'),
  };
}

/** Creates SONDE_HOME 0700, or tightens it; refuses one owned by another user. */
export function ensureHome(home: string): void {
  if (!existsSync(home)) mkdirSync(home, { recursive: true, mode: 0o700 });
  const info = statSync(home);
  if (!info.isDirectory()) throw new AgentError('SONDE_ERR_HOME_INSECURE', `${home} is not a directory.`);
  if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
    throw new AgentError('SONDE_ERR_HOME_INSECURE', `${home} belongs to uid ${info.uid}, not to this user.`);
  }
  if ((info.mode & 0o077) !== 0) chmodSync(home, 0o700);
}

/** Atomic write with mode 0600: a crash never leaves a half-written key or state file. */
export function writePrivateFile(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function readJsonFile(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}
