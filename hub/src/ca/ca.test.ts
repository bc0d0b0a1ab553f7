import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { offerWireKey, verifyWireKeyCert, WIRE_KEY_EXTENSION_OID } from '@sonde/pack-sdk/protocol';
import path from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKey, makeCsr, tamperCsr, tempDir, TEST_SECRET } from '../../test/helpers.js';
import { openCrypto } from '../crypto/index.js';
import { HubError } from '../errors.js';
import { openHubStore } from '../store/open.js';
import type { HubStore } from '../store/types.js';
import { caMissing, createHubWireKey, generateRsaKey, grantWireKey, openCa, type HubCa } from './index.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
let store: HubStore;
let ca: HubCa;
let file: string;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  file = path.join(tmp.dir, 'sonde.db');
  store = await openHubStore(file);
  ca = await openCa(store, (await openCrypto(TEST_SECRET, store)).sealer);
});
afterAll(async () => {
  await store.close();
  cleanup();
});

/** OID as DER (tag, length, content), written out here independently of the CA's encoder. */
function oidDer(oid: string): Buffer {
  const [a, b, ...rest] = oid.split('.').map(BigInt);
  const content: number[] = [];
  for (let value of [a * 40n + b, ...rest]) {
    const groups = [Number(value % 128n)];
    while ((value /= 128n) > 0n) groups.unshift(Number(value % 128n) | 0x80);
    content.push(...groups);
  }
  return Buffer.from([0x06, content.length, ...content]);
}

describe('Ed25519 wire keys certified by the CA', () => {
  it('certifies an agent wire key inside its client certificate; the frame key is that key', () => {
    const wire = generateKeyPairSync('ed25519');
    const issued = ca.issueAgentCert(makeCsr('ed-1'), 'ed-1', wire.publicKey);
    expect(issued.wireAlgorithm).toBe('ed25519');
    expect(createPublicKey(issued.publicKeyPem).asymmetricKeyType).toBe('ed25519');
    // The certificate (signed by the CA) carries the key's SubjectPublicKeyInfo in the Sonde extension.
    expect(new X509Certificate(issued.certPem).verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    // Extension = SEQUENCE { OID, OCTET STRING { SubjectPublicKeyInfo } } (forge cannot read 128-bit OID arcs: compare DER).
    const der = new X509Certificate(issued.certPem).raw;
    const spki = wire.publicKey.export({ type: 'spki', format: 'der' });
    const extension = Buffer.concat([oidDer(WIRE_KEY_EXTENSION_OID), Buffer.from([0x04, spki.length]), spki]);
    expect(der.includes(extension)).toBe(true);
    // Without a wire key: an RSA certificate as before, no extension, the frame key is the certificate key.
    const legacy = ca.issueAgentCert(makeCsr('rsa-1'), 'rsa-1');
    expect(legacy.wireAlgorithm).toBe('rsa-sha256');
    expect(createPublicKey(legacy.publicKeyPem).asymmetricKeyType).toBe('rsa');
    expect(new X509Certificate(legacy.certPem).raw.includes(oidDer(WIRE_KEY_EXTENSION_OID))).toBe(false);
  });

  it("grants the hub's CA-certified key only in ed25519 mode, to an offer whose proof covers this CSR", () => {
    const hubWire = createHubWireKey(randomBytes(32), ca.privateKey);
    const agentWire = generateKeyPairSync('ed25519');
    const csr = makeCsr('ed-2');
    const offer = offerWireKey(agentWire.privateKey, csr);
    const granted = grantWireKey('ed25519', offer, csr, hubWire)!;
    expect(granted.grant.alg).toBe('ed25519');
    const hubKey = verifyWireKeyCert(granted.grant.hubKey, new X509Certificate(ca.certPem).publicKey);
    expect(hubKey.export({ format: 'jwk' }).x).toBe(createPublicKey(hubWire.privateKey).export({ format: 'jwk' }).x);
    expect(grantWireKey('rsa-sha256', offer, csr, hubWire)).toBeUndefined();
    expect(grantWireKey('ed25519', undefined, csr, hubWire)).toBeUndefined();
    expect(() => grantWireKey('ed25519', offer, makeCsr('ed-3'), hubWire)).toThrow(HubError);
  });
});

describe('hub CA', () => {
  it('is a 10-year RSA CA whose key is sealed in the database', async () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    const years = (new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()) / (365 * 86_400_000);
    expect(years).toBeGreaterThan(9.9);
    expect(ca.privateKey.asymmetricKeyType).toBe('rsa');
    const sealedKey = (await store.settings.get('ca.key'))!;
    expect(sealedKey.startsWith('v1:')).toBe(true);
    expect(sealedKey).not.toContain('PRIVATE KEY');
  });

  it('is the same CA after a restart', async () => {
    const again = await openHubStore(file);
    const reopened = await openCa(again, (await openCrypto(TEST_SECRET, again)).sealer);
    expect(reopened.certPem).toBe(ca.certPem);
    await again.close();
  });

  it('issues a 1-year clientAuth-only, non-CA, SHA-256 agent certificate from a CSR', () => {
    const issued = ca.issueAgentCert(makeCsr('web-1'), 'web-1');
    const cert = new X509Certificate(issued.certPem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.subject).toBe('CN=web-1');
    const days = (new Date(cert.validTo).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
    expect(cert.serialNumber.toLowerCase()).toBe(issued.serial);
    expect(issued.publicKeyPem.replace(/\s/g, '')).toBe(agentKey().publicKeyPem.replace(/\s/g, ''));
    const forgeCert = forge.pki.certificateFromPem(issued.certPem);
    expect(forge.pki.oids[forgeCert.siginfo.algorithmOid]).toBe('sha256WithRSAEncryption');
    const ku = forgeCert.getExtension('keyUsage') as { digitalSignature?: boolean; keyCertSign?: boolean };
    expect(ku.digitalSignature).toBe(true);
    expect(ku.keyCertSign).toBeFalsy();
  });

  it('uses random serials', () => {
    const a = ca.issueAgentCert(makeCsr('a'), 'a');
    const b = ca.issueAgentCert(makeCsr('a'), 'a');
    expect(a.serial).not.toBe(b.serial);
    expect(a.serial).toMatch(/^[4-7][0-9a-f]{31}$/);
  });

  it('refuses a CSR whose signature does not verify', () => {
    const tampered = tamperCsr(makeCsr('web-1'));
    expect(() => ca.issueAgentCert(tampered, 'web-1')).toThrow(HubError);
    expect(() => ca.issueAgentCert('not a csr', 'web-1')).toThrow(/PKCS#10/);
  });

  it('issues a server certificate for SONDE_TLS=auto with the host names as SANs', () => {
    const { certPem } = ca.issueServerCert(['localhost', '127.0.0.1']);
    const cert = new X509Certificate(certPem);
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
  });

  it('issues the server certificate for a key generated beforehand (serve makes it while loading)', async () => {
    const keyPem = await generateRsaKey();
    const issued = ca.issueServerCert(['localhost'], keyPem);
    expect(issued.keyPem).toBe(keyPem);
    expect(new X509Certificate(issued.certPem).checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
  });

  it('allows renewal only in the last 30 days', () => {
    const now = new Date('2027-01-01T00:00:00Z');
    expect(ca.renewalDue('2027-03-01T00:00:00Z', now)).toBe(false);
    expect(ca.renewalDue('2027-01-20T00:00:00Z', now)).toBe(true);
  });

  it('signs as forge would: the same certificate bytes, verified by forge and by node:crypto', async () => {
    const issued = ca.issueAgentCert(makeCsr('same-bytes'), 'same-bytes');
    const reSigned = forge.pki.certificateFromPem(issued.certPem);
    const caKey = forge.pki.privateKeyFromPem(
      (await openCrypto(TEST_SECRET, store)).sealer.openText((await store.settings.get('ca.key'))!, 'ca.key'),
    );
    reSigned.sign(caKey, forge.md.sha256.create());
    expect(forge.pki.certificateToPem(reSigned)).toBe(issued.certPem);
    expect(forge.pki.certificateFromPem(ca.certPem).verify(forge.pki.certificateFromPem(issued.certPem))).toBe(true);
    const self = new X509Certificate(ca.certPem);
    expect(self.verify(self.publicKey)).toBe(true);
  });

  it("creates a new database's CA from a key generated beforehand, and ignores it when a CA exists", async () => {
    const tmp = tempDir();
    const other = await openHubStore(path.join(tmp.dir, 'sonde.db'));
    try {
      const sealer = (await openCrypto(TEST_SECRET, other)).sealer;
      expect(await caMissing(other)).toBe(true);
      const keyPem = await generateRsaKey();
      const created = await openCa(other, sealer, keyPem);
      expect(await caMissing(other)).toBe(false);
      expect(created.privateKey.export({ type: 'pkcs8', format: 'pem' })).toBe(keyPem);
      expect(new X509Certificate(created.certPem).checkPrivateKey(created.privateKey)).toBe(true);
      const reopened = await openCa(other, sealer, await generateRsaKey());
      expect(reopened.certPem).toBe(created.certPem);
      expect(reopened.privateKey.export({ type: 'pkcs8', format: 'pem' })).toBe(keyPem);
    } finally {
      await other.close();
      tmp.cleanup();
    }
  });
});
