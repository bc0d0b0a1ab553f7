import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { verifyWireKeyCert, type WireGrant } from '@sonde/pack-sdk/protocol';
import { AgentError } from '../errors.js';
import { writePrivateFile, type HomePaths } from '../home.js';
import { readIdentity, type Identity } from './state.js';

export { IdentitySchema, isEnrolled, readIdentity, type Identity } from './state.js';

export interface LoadedIdentity extends Identity {
  /** The RSA key of the client certificate (TLS). */
  privateKey: KeyObject;
  /** The key every frame to the hub is signed with: the Ed25519 wire key, or the RSA key for an RSA enrollment. */
  signingKey: KeyObject;
  certPem: string;
  keyPem: string;
  caPem: string;
  /**
   * The key every hub frame must verify against: the hub's Ed25519 wire key (certified by the pinned CA) for an
   * Ed25519 enrollment, else the hub CA's own key.
   */
  hubKey: KeyObject;
  apiKey: string;
}

/** What enrollment or renewal hands over: the RSA identity plus, with Ed25519 on the wire, both wire keys. */
export interface IdentityFiles {
  keyPem: string;
  certPem: string;
  caPem: string;
  apiKey: string;
  /** The agent's Ed25519 private key and the hub's grant; absent for an RSA enrollment. */
  wire?: { keyPem: string; grant: WireGrant };
}

/** Checks the hub's wire key against the CA this answer came with; enrollment refuses an answer where it does not verify. */
export function checkWireGrant(grant: WireGrant, caPem: string): void {
  try {
    verifyWireKeyCert(grant.hubKey, new X509Certificate(caPem).publicKey);
  } catch (error) {
    throw new AgentError('SONDE_ERR_HUB_NOT_SONDE', `the hub's wire key is not certified by its CA: ${(error as Error).message}`);
  }
}

export function saveIdentity(paths: HomePaths, identity: Identity, files: IdentityFiles): void {
  if (files.wire) checkWireGrant(files.wire.grant, files.caPem);
  writePrivateFile(paths.privateKey, files.keyPem);
  writePrivateFile(paths.cert, files.certPem);
  writePrivateFile(paths.caCert, files.caPem);
  writePrivateFile(paths.apiKey, `${files.apiKey}\n`);
  if (files.wire) {
    writePrivateFile(paths.wireKey, files.wire.keyPem);
    writePrivateFile(paths.hubWireKey, `${JSON.stringify(files.wire.grant.hubKey, null, 2)}\n`);
  } else {
    // An RSA enrollment (re-enrolment or renewal included) leaves no wire key of an earlier one behind.
    rmSync(paths.wireKey, { force: true });
    rmSync(paths.hubWireKey, { force: true });
  }
  // identity.json last: it says which of the files above are in use.
  writePrivateFile(paths.identity, `${JSON.stringify({ ...identity, wireSignature: files.wire ? 'ed25519' : 'rsa-sha256' }, null, 2)}\n`);
}

export function loadIdentity(paths: HomePaths): LoadedIdentity {
  const identity = readIdentity(paths);
  try {
    const keyPem = readFileSync(paths.privateKey, 'utf8');
    const certPem = readFileSync(paths.cert, 'utf8');
    const caPem = readFileSync(paths.caCert, 'utf8');
    const apiKey = readFileSync(paths.apiKey, 'utf8').trim();
    const privateKey = createPrivateKey(keyPem);
    const caKey = new X509Certificate(caPem).publicKey;
    let signingKey = privateKey;
    let hubKey = caKey;
    if (identity.wireSignature === 'ed25519') {
      signingKey = createPrivateKey(readFileSync(paths.wireKey, 'utf8'));
      // Checked against the pinned CA at every start: a swapped file cannot make the agent trust another hub key.
      hubKey = verifyWireKeyCert(JSON.parse(readFileSync(paths.hubWireKey, 'utf8')), caKey);
      if (signingKey.asymmetricKeyType !== 'ed25519') throw new Error(`${paths.wireKey} is not an Ed25519 key`);
    }
    return { ...identity, keyPem, certPem, caPem, apiKey, privateKey, signingKey, hubKey };
  } catch (error) {
    throw new AgentError('SONDE_ERR_IDENTITY_BROKEN', (error as Error).message);
  }
}
