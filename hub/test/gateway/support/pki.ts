import { createPrivateKey, generateKeyPair, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/** A throwaway CA like the hub's (node:crypto keys, node-forge certificates). */
export interface TestCa {
  key: KeyObject;
  certPem: string;
  /** Client certificate for an agent; `clientAuth: false` makes one without the usage. */
  issueClient(
    commonName: string,
    publicKeyPem: string,
    options?: { clientAuth?: boolean; notAfter?: Date },
  ): { certPem: string; serial: string };
  /** Server certificate for 127.0.0.1. */
  issueServer(): { certPem: string; keyPem: string };
}

export function generateRsa(): { publicKeyPem: string; privateKeyPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey,
  };
}

const pool = new Map<number, ReturnType<typeof generateRsa>>();

/**
 * RSA-2048 key generation takes up to a second on a busy 2-core machine, so
 * keys come from a per-process pool by index: slot 0 is the CA, 1 the TLS
 * server, 2+ the agents. Different hubs may reuse slots; within one hub every
 * slot is distinct.
 */
export function pooledRsa(slot: number): ReturnType<typeof generateRsa> {
  let keys = pool.get(slot);
  if (!keys) pool.set(slot, (keys = generateRsa()));
  return keys;
}

/**
 * Fills pool slots off the event loop (libuv thread pool). Generating a key
 * synchronously in the middle of a test blocks the hub and its agents in this
 * same process for seconds on a loaded machine, long enough for the liveness
 * sweep to (rightly) call them dead.
 */
export async function warmRsa(slots: number[]): Promise<void> {
  await Promise.all(
    slots
      .filter((slot) => !pool.has(slot))
      .map(
        (slot) =>
          new Promise<void>((resolve, reject) =>
            generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => {
              if (err) return reject(err);
              pool.set(slot, {
                publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
                privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
                privateKey,
              });
              resolve();
            }),
          ),
      ),
  );
}

function serialHex(): string {
  // Positive, no leading zero byte: forge writes it as given.
  return `1${randomBytes(15).toString('hex')}`;
}

export function createTestCa(commonName = 'Test Sonde CA', keySlot = 0): TestCa {
  const ca = pooledRsa(keySlot);
  const caKey = forge.pki.privateKeyFromPem(ca.privateKeyPem);
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = forge.pki.publicKeyFromPem(ca.publicKeyPem);
  caCert.serialNumber = serialHex();
  caCert.validity.notBefore = new Date(Date.now() - 60_000);
  caCert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  const caName = [{ name: 'commonName', value: commonName }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(caKey, forge.md.sha256.create());

  const issue = (cn: string, publicKeyPem: string, extensions: object[], notAfter?: Date): { certPem: string; serial: string } => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
    cert.serialNumber = serialHex();
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = notAfter ?? new Date(Date.now() + 365 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: cn }]);
    cert.setIssuer(caName);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      ...extensions,
      { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    cert.sign(caKey, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(cert), serial: cert.serialNumber };
  };

  return {
    key: createPrivateKey(ca.privateKeyPem),
    certPem: forge.pki.certificateToPem(caCert),
    issueClient(cn, publicKeyPem, options = {}) {
      const usage = options.clientAuth === false ? { name: 'extKeyUsage', serverAuth: true } : { name: 'extKeyUsage', clientAuth: true };
      return issue(
        cn,
        publicKeyPem,
        [{ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true }, usage],
        options.notAfter,
      );
    },
    issueServer() {
      const server = pooledRsa(1);
      const { certPem } = issue('127.0.0.1', server.publicKeyPem, [
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ]);
      return { certPem, keyPem: server.privateKeyPem };
    },
  };
}
