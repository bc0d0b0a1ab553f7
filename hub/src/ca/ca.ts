import { createPrivateKey, createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type Forge from 'node-forge';
import { WIRE_KEY_EXTENSION_OID, type WireAlgorithm } from '@sonde/pack-sdk/protocol';
import { HubError } from '../errors.js';
import type { Sealer } from '../crypto/index.js';
import type { HubStore } from '../store/types.js';

type ForgeModule = typeof Forge;
type Certificate = Forge.pki.Certificate;
const require = createRequire(import.meta.url);
let forgeModule: ForgeModule | undefined;
/**
 * node-forge (~50 ms to load, ~2 MiB) is needed only to write certificates: on the
 * first start and at enrollment, renewal and SONDE_TLS=auto, so it loads then.
 */
function forge(): ForgeModule {
  return (forgeModule ??= require('node-forge') as ForgeModule);
}

const CA_CERT_SETTING = 'ca.cert';
const CA_KEY_SETTING = 'ca.key';
const DAY_MS = 86_400_000;
/** Agent certificates may be renewed in their last 30 days. */
export const RENEWAL_WINDOW_MS = 30 * DAY_MS;

export interface IssuedCert {
  certPem: string;
  serial: string;
  notAfter: string;
  /** The key the agent's frames verify with: its Ed25519 wire key when one is certified, else the certificate's RSA key. */
  publicKeyPem: string;
  wireAlgorithm: WireAlgorithm;
}

export interface HubCa {
  readonly certPem: string;
  /** The CA private key as a KeyObject: the gateway signs hub → agent messages with it. */
  readonly privateKey: KeyObject;
  /**
   * Verifies the CSR's own signature and issues a 1-year clientAuth-only certificate for `name`; with
   * `wireKey` (an Ed25519 public key whose proof the caller checked) the certificate also certifies that key.
   */
  issueAgentCert(csrPem: string, name: string, wireKey?: KeyObject): IssuedCert;
  /** A TLS server certificate for SONDE_TLS=auto, for `keyPem` or a key generated here (never stored). */
  issueServerCert(hostnames: string[], keyPem?: string): { certPem: string; keyPem: string };
  /** Whether the certificate with this notAfter may be renewed now. */
  renewalDue(notAfter: string, now?: Date): boolean;
}

/**
 * 16 random bytes as hex, first byte in 0x40-0x7f: positive (as X.509 requires)
 * and without a leading zero, so the DER encoding is minimal and the hex form
 * is the same wherever it is read back (node:tls reports it upper-case).
 */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x3f) | 0x40;
  return bytes.toString('hex');
}

const RSA_OPTIONS = { modulusLength: 2048 } as const;

/** An RSA-2048 private key (PKCS#8 PEM). node:crypto generates in native code; forge's pure-JS generator takes seconds. */
function generateRsa(): string {
  return generateKeyPairSync('rsa', RSA_OPTIONS).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * An RSA-2048 key generated on libuv's thread pool (0.1–2.5 s, a random search for primes), so that
 * the server can generate a new database's CA key and its SONDE_TLS=auto key while it loads its
 * modules. openCa and issueServerCert take it.
 */
export function generateRsaKey(): Promise<string> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', RSA_OPTIONS, (error, _publicKey, privateKey) =>
      error ? reject(error) : resolve(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
    );
  });
}

/** Whether openCa would have to create the CA (a new database). */
export async function caMissing(store: Pick<HubStore, 'settings'>): Promise<boolean> {
  return !(await store.settings.get(CA_CERT_SETTING)) || !(await store.settings.get(CA_KEY_SETTING));
}

function publicKeyOf(privateKeyPem: string): Forge.pki.PublicKey {
  return forge().pki.publicKeyFromPem(createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }) as string);
}

/**
 * RSA-SHA256 as forge's `cert.sign(key, sha256)` does it, with the signature made by node:crypto
 * (native, ~1 ms) instead of forge's pure-JS RSA (tens of ms). PKCS#1 v1.5 is deterministic, so
 * the certificate is byte for byte the one forge would produce.
 */
function signCertificate(cert: Certificate, key: KeyObject): void {
  const { asn1, md, pki } = forge();
  const oid = pki.oids.sha256WithRSAEncryption;
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  cert.tbsCertificate = (pki as unknown as { getTBSCertificate(c: Certificate): Forge.asn1.Asn1 }).getTBSCertificate(cert);
  replaceOid(cert.tbsCertificate, asn1.oidToDer(WIRE_KEY_PLACEHOLDER_OID).getBytes(), oidToDer(WIRE_KEY_EXTENSION_OID));
  const tbs = asn1.toDer(cert.tbsCertificate).getBytes();
  // The digest of the TBS, as forge leaves it (its verify() of this object reads it).
  cert.md = md.sha256.create().update(tbs);
  cert.signature = sign('sha256', Buffer.from(tbs, 'binary'), key).toString('binary');
}

/**
 * forge encodes OID arcs of at most 32 bits, and the wire key extension's OID sits under the UUID arc (2.25.<128-bit
 * integer>). The extension is written under a placeholder OID and the placeholder replaced in the TBS before it is
 * signed (forge keeps and serialises that TBS).
 */
const WIRE_KEY_PLACEHOLDER_OID = '1.3.6.1.4.1.0.25519';

/** DER content bytes (binary string) of an OID, any arc size. */
function oidToDer(oid: string): string {
  const arcs = oid.split('.').map((arc) => BigInt(arc));
  const bytes: number[] = [];
  for (const value of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
    const chunk: number[] = [];
    let rest = value;
    do {
      chunk.unshift(Number(rest & 0x7fn) | (chunk.length > 0 ? 0x80 : 0));
      rest >>= 7n;
    } while (rest > 0n);
    bytes.push(...chunk);
  }
  return String.fromCharCode(...bytes);
}

function replaceOid(node: Forge.asn1.Asn1, from: string, to: string): void {
  if (node.type === forge().asn1.Type.OID && node.value === from) node.value = to;
  else if (Array.isArray(node.value)) for (const child of node.value) replaceOid(child, from, to);
}

function createCa(privateKeyPem: string): { certPem: string; keyPem: string } {
  const { pki } = forge();
  const cert = pki.createCertificate();
  cert.publicKey = publicKeyOf(privateKeyPem);
  cert.serialNumber = randomSerial();
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + 3650 * DAY_MS);
  const subject = [
    { name: 'commonName', value: 'Sonde Hub CA' },
    { name: 'organizationName', value: 'Sonde' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(cert, createPrivateKey(privateKeyPem));
  return { certPem: pki.certificateToPem(cert), keyPem: privateKeyPem };
}

/**
 * Loads the hub CA, generating it on first boot (RSA-2048, 10 years) from `newKeyPem` when
 * given (see generateRsaKey). The key is sealed (AES-256-GCM) in settings; the certificate is public.
 */
export async function openCa(store: Pick<HubStore, 'transaction'>, sealer: Sealer, newKeyPem?: string): Promise<HubCa> {
  const { certPem, keyPem } = await store.transaction(async (tx) => {
    const existingCert = await tx.settings.get(CA_CERT_SETTING);
    const existingKey = await tx.settings.get(CA_KEY_SETTING);
    if (existingCert && existingKey) return { certPem: existingCert, keyPem: sealer.openText(existingKey, CA_KEY_SETTING) };
    const created = createCa(newKeyPem ?? generateRsa());
    await tx.settings.set(CA_CERT_SETTING, created.certPem);
    await tx.settings.set(CA_KEY_SETTING, sealer.seal(created.keyPem, CA_KEY_SETTING));
    return created;
  });
  const privateKey = createPrivateKey(keyPem);
  let caSubject: Forge.pki.CertificateField[] | undefined;

  function signByCa(cert: Certificate): void {
    cert.setIssuer((caSubject ??= forge().pki.certificateFromPem(certPem).subject.attributes));
    signCertificate(cert, privateKey);
  }

  return {
    certPem,
    privateKey,
    issueAgentCert(csrPem, name, wireKey) {
      if (wireKey && wireKey.asymmetricKeyType !== 'ed25519') throw new TypeError('the wire key must be an Ed25519 public key');
      const { pki } = forge();
      let csr: Forge.pki.CertificateSigningRequest;
      try {
        csr = pki.certificationRequestFromPem(csrPem);
      } catch {
        throw new HubError('SONDE_ERR_CSR_INVALID', 'csrPem is not a PEM PKCS#10 certificate signing request');
      }
      let verified = false;
      try {
        verified = csr.verify();
      } catch {
        verified = false;
      }
      if (!verified || !csr.publicKey) throw new HubError('SONDE_ERR_CSR_INVALID', 'the CSR signature does not verify');
      const rsaKey = csr.publicKey as Forge.pki.rsa.PublicKey;
      if (typeof rsaKey.n?.bitLength !== 'function' || rsaKey.n.bitLength() < 2048) {
        throw new HubError('SONDE_ERR_CSR_INVALID', 'the CSR key must be RSA with at least 2048 bits');
      }
      const cert = pki.createCertificate();
      cert.publicKey = csr.publicKey;
      cert.serialNumber = randomSerial();
      const now = new Date();
      cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
      cert.validity.notAfter = new Date(now.getTime() + 365 * DAY_MS);
      // The subject is the name the hub accepted, never whatever the CSR claims.
      cert.setSubject([{ name: 'commonName', value: name }]);
      cert.setExtensions([
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
        { name: 'subjectKeyIdentifier' },
        // The agent's Ed25519 wire key (SubjectPublicKeyInfo, DER), certified with its identity: non-critical,
        // so TLS stacks that do not know it still accept the certificate.
        ...(wireKey
          ? [{ id: WIRE_KEY_PLACEHOLDER_OID, critical: false, value: wireKey.export({ type: 'spki', format: 'der' }).toString('binary') }]
          : []),
      ]);
      signByCa(cert);
      return {
        certPem: pki.certificateToPem(cert),
        serial: cert.serialNumber,
        notAfter: cert.validity.notAfter.toISOString(),
        publicKeyPem: wireKey ? (wireKey.export({ type: 'spki', format: 'pem' }) as string) : pki.publicKeyToPem(csr.publicKey),
        wireAlgorithm: wireKey ? 'ed25519' : 'rsa-sha256',
      };
    },
    issueServerCert(hostnames, privateKeyPem = generateRsa()) {
      const { pki } = forge();
      const cert = pki.createCertificate();
      cert.publicKey = publicKeyOf(privateKeyPem);
      cert.serialNumber = randomSerial();
      const now = new Date();
      cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
      cert.validity.notAfter = new Date(now.getTime() + 365 * DAY_MS);
      cert.setSubject([{ name: 'commonName', value: hostnames[0] ?? 'localhost' }]);
      cert.setExtensions([
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: hostnames.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
      ]);
      signByCa(cert);
      return { certPem: pki.certificateToPem(cert), keyPem: privateKeyPem };
    },
    renewalDue: (notAfter, now = new Date()) => new Date(notAfter).getTime() - now.getTime() <= RENEWAL_WINDOW_MS,
  };
}

/** Serial (lower-case hex, no leading zeros) of a certificate as node:tls reports it, for lookups. */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+/, '') || '0';
}
