import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AgentError } from '../errors.js';
import { writePrivateFile, type HomePaths } from '../home.js';
import { readIdentity, type Identity } from './state.js';

export { IdentitySchema, isEnrolled, readIdentity, type Identity } from './state.js';

export interface LoadedIdentity extends Identity {
  privateKey: KeyObject;
  certPem: string;
  keyPem: string;
  caPem: string;
  /** Public key of the hub CA: every hub frame must verify against it. */
  hubKey: KeyObject;
  apiKey: string;
}

export function saveIdentity(
  paths: HomePaths,
  identity: Identity,
  files: { keyPem: string; certPem: string; caPem: string; apiKey: string },
): void {
  writePrivateFile(paths.privateKey, files.keyPem);
  writePrivateFile(paths.cert, files.certPem);
  writePrivateFile(paths.caCert, files.caPem);
  writePrivateFile(paths.apiKey, `${files.apiKey}\n`);
  writePrivateFile(paths.identity, `${JSON.stringify(identity, null, 2)}\n`);
}

export function loadIdentity(paths: HomePaths): LoadedIdentity {
  const identity = readIdentity(paths);
  try {
    const keyPem = readFileSync(paths.privateKey, 'utf8');
    const certPem = readFileSync(paths.cert, 'utf8');
    const caPem = readFileSync(paths.caCert, 'utf8');
    const apiKey = readFileSync(paths.apiKey, 'utf8').trim();
    return {
      ...identity,
      keyPem,
      certPem,
      caPem,
      apiKey,
      privateKey: createPrivateKey(keyPem),
      hubKey: new X509Certificate(caPem).publicKey,
    };
  } catch (error) {
    throw new AgentError('SONDE_ERR_IDENTITY_BROKEN', (error as Error).message);
  }
}
