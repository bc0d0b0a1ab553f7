import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { normalizeSerial } from '../ca/index.js';
import { HubError } from '../errors.js';
import type { AgentRecord, HubStore } from '../store/types.js';

/**
 * An agent authenticated by its client certificate over mTLS (certificate renewal): the TLS peer's certificate was
 * issued by the hub's CA, is the current certificate of an enrolled agent (same fingerprint) and is not revoked.
 */
export function clientCertGuard(store: HubStore): (request: FastifyRequest) => Promise<AgentRecord> {
  return async (request) => {
    const socket = request.raw.socket as Partial<TLSSocket>;
    const peer = socket.encrypted && typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
    if (!peer || !socket.authorized) throw new HubError('SONDE_ERR_CLIENT_CERT_REQUIRED');
    const serial = normalizeSerial(peer.serialNumber);
    const agent = await store.agents.getByCertSerial(serial);
    if (!agent || !agent.certPem || (await store.revokedCerts.isRevoked(serial))) {
      throw new HubError('SONDE_ERR_CLIENT_CERT_REQUIRED', 'The client certificate is not the current certificate of an enrolled agent.');
    }
    if (new X509Certificate(agent.certPem).fingerprint256 !== peer.fingerprint256) throw new HubError('SONDE_ERR_CLIENT_CERT_REQUIRED');
    return agent;
  };
}
