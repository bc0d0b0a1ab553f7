import { createHash, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AgentRecord, HubStore } from '../store/types.js';
import type { AuthenticatedAgent, AuthOutcome } from './types.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Decides who is knocking on `/ws/agent` before any WebSocket state exists.
 * Order (security model): a client certificate first, then an agent API key.
 * A presented certificate that does not verify fails the whole request instead
 * of falling back to the key, so a forged or foreign certificate is never
 * quietly ignored; a certificate and a key naming different agents fail too.
 */
export async function authenticateUpgrade(
  request: IncomingMessage,
  store: HubStore,
  caCert: X509Certificate,
  now: Date = new Date(),
): Promise<AuthOutcome> {
  const remoteAddress = request.socket.remoteAddress ?? null;
  const cert = presentedCertificate(request);
  let fromCert: { agent: AuthenticatedAgent; publicKeyPem: string } | undefined;
  if (cert) {
    const outcome = await authenticateCertificate(request.socket as TLSSocket, cert, store, caCert, now);
    if (!outcome.ok) return outcome;
    fromCert = { agent: { ...outcome.agent, remoteAddress }, publicKeyPem: outcome.publicKeyPem };
  }
  const bearer = bearerToken(request.headers.authorization);
  if (bearer === null) {
    if (fromCert) return { ok: true, ...fromCert };
    return { ok: false, reason: request.headers.authorization ? 'malformed Authorization header' : 'no credentials' };
  }
  const fromKey = await authenticateApiKey(bearer, store);
  if (!fromKey.ok) return fromKey;
  if (fromCert && fromCert.agent.agentId !== fromKey.agent.agentId) {
    return { ok: false, reason: `certificate of ${fromCert.agent.name} presented with the API key of ${fromKey.agent.name}` };
  }
  return fromCert
    ? { ok: true, ...fromCert }
    : { ok: true, agent: { ...fromKey.agent, remoteAddress }, publicKeyPem: fromKey.publicKeyPem };
}

/** The token of `Authorization: Bearer <token>`, or null (none, or another form). */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

function presentedCertificate(request: IncomingMessage): X509Certificate | undefined {
  const socket = request.socket as Partial<TLSSocket>;
  if (!socket.encrypted || typeof socket.getPeerX509Certificate !== 'function') return undefined;
  return socket.getPeerX509Certificate.call(socket) ?? undefined;
}

async function authenticateCertificate(
  socket: TLSSocket,
  cert: X509Certificate,
  store: HubStore,
  caCert: X509Certificate,
  now: Date,
): Promise<AuthOutcome> {
  // `authorized` is the TLS layer's verdict against the server's `ca` list; the
  // explicit checks below hold even if that list is wider than the hub CA.
  if (!socket.authorized) return { ok: false, reason: `client certificate not verified by TLS: ${String(socket.authorizationError)}` };
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey))
    return { ok: false, reason: 'client certificate not issued by the hub CA' };
  if (cert.ca) return { ok: false, reason: 'client certificate is a CA certificate' };
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo))
    return { ok: false, reason: 'client certificate outside its validity period' };
  const usages = cert.keyUsage;
  if (!usages?.includes(CLIENT_AUTH_OID)) return { ok: false, reason: 'client certificate lacks the clientAuth usage' };
  for (const candidate of serialCandidates(cert.serialNumber)) {
    if (await store.revokedCerts.isRevoked(candidate)) return { ok: false, reason: `client certificate ${cert.serialNumber} is revoked` };
  }
  const record = await agentBySerial(store, cert.serialNumber);
  if (!record) return { ok: false, reason: `no agent holds certificate serial ${cert.serialNumber}` };
  if (record.removedAt) return { ok: false, reason: `agent ${record.name} was removed` };
  // The serial index finds the agent; the stored certificate proves this is its
  // current one (a re-enrolment replaces it, removal clears it).
  if (!record.certPem || new X509Certificate(record.certPem).fingerprint256 !== cert.fingerprint256) {
    return { ok: false, reason: `certificate is not the current one of agent ${record.name}` };
  }
  return {
    ok: true,
    agent: {
      agentId: record.id,
      name: record.name,
      method: 'mtls',
      keyId: null,
      certFingerprint: cert.fingerprint256,
      remoteAddress: null,
    },
    publicKeyPem: record.publicKeyPem,
  };
}

/** node:crypto prints serials in upper-case hex; issuers may store them in another case or with a leading zero byte. */
function serialCandidates(serial: string): string[] {
  const trimmed = serial.replace(/^0+/, '') || '0';
  return [...new Set([serial, trimmed, `00${trimmed}`, `0${trimmed}`].flatMap((value) => [value, value.toLowerCase()]))];
}

async function agentBySerial(store: HubStore, serial: string): Promise<AgentRecord | undefined> {
  for (const candidate of serialCandidates(serial)) {
    const record = await store.agents.getByCertSerial(candidate);
    if (record) return record;
  }
  return undefined;
}

async function authenticateApiKey(rawKey: string, store: HubStore): Promise<AuthOutcome> {
  const key = await store.apiKeys.findByHash(sha256Hex(rawKey));
  if (!key) return { ok: false, reason: 'unknown API key' };
  if (key.type !== 'agent') return { ok: false, reason: `API key ${key.name} is a ${key.type} key, not an agent key` };
  if (key.revokedAt) return { ok: false, reason: `API key ${key.name} was revoked` };
  if (!key.agentId) return { ok: false, reason: `agent key ${key.name} is bound to no agent` };
  const record = await store.agents.getById(key.agentId);
  if (!record) return { ok: false, reason: `agent key ${key.name} names an unknown agent` };
  if (record.removedAt) return { ok: false, reason: `agent ${record.name} was removed` };
  return {
    ok: true,
    agent: { agentId: record.id, name: record.name, method: 'api_key', keyId: key.id, certFingerprint: null, remoteAddress: null },
    publicKeyPem: record.publicKeyPem,
  };
}
