import { generateKeyPairSync, X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
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

/** RSA-2048 key pair and PKCS#10 CSR made on this host; the private key never leaves it. */
export function generateKeyAndCsr(name: string): { keyPem: string; csrPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicPem);
  csr.setSubject([{ name: 'commonName', value: name }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  return { keyPem, csrPem: forge.pki.certificationRequestToPem(csr) };
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
