import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { offerWireKey, type WireKeyOffer } from '@sonde/pack-sdk/protocol';

// Only enrollment and renewal make a CSR: node-forge (~40-70 ms to load) stays out of `sonde start`.

export interface KeyMaterial {
  /** RSA-2048 (PKCS#8 PEM): the client certificate's key, for TLS. */
  keyPem: string;
  csrPem: string;
  /** Ed25519 (PKCS#8 PEM): the wire key, used when the hub certifies it. */
  wireKeyPem: string;
  /** The wire key's public half with a proof over this CSR. */
  wireOffer: WireKeyOffer;
}

/** Key pairs and PKCS#10 CSR made on this host; the private keys never leave it. */
export function generateKeyAndCsr(name: string): KeyMaterial {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicPem);
  csr.setSubject([{ name: 'commonName', value: name }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  const csrPem = forge.pki.certificationRequestToPem(csr);
  const wire = generateKeyPairSync('ed25519');
  return {
    keyPem,
    csrPem,
    wireKeyPem: wire.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    wireOffer: offerWireKey(wire.privateKey, csrPem),
  };
}
