import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import forge from 'node-forge';
import { agentKey } from '../helpers.js';

/** A self-signed certificate for 127.0.0.1 (trusted by the hub through SONDE_OAUTH_FETCH_CA_FILE). */
export function loopbackCertificate(): { certPem: string; keyPem: string } {
  const { privateKeyPem, publicKeyPem } = agentKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const name = [{ name: 'commonName', value: '127.0.0.1' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKeyPem };
}

/** An https server on loopback serving Client ID Metadata Documents; counts what it is asked. */
export interface DocumentServer {
  origin: string;
  hostPort: string;
  requests: number;
  /** Serves `doc(url)` at `path`; the document's client_id is its own URL. */
  serve(path: string, doc: (url: string) => Record<string, unknown>, headers?: Record<string, string>): string;
  close(): Promise<void>;
}

export async function startDocumentServer(cert: { certPem: string; keyPem: string }): Promise<DocumentServer> {
  const routes = new Map<string, { body: string; headers: Record<string, string> }>();
  const state = { requests: 0 };
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    state.requests++;
    const route = routes.get(req.url ?? '');
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...route.headers }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `https://127.0.0.1:${port}`;
  return {
    origin,
    hostPort: `127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    serve(p, doc, headers = {}) {
      const url = `${origin}${p}`;
      routes.set(p, { body: JSON.stringify(doc(url)), headers });
      return url;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function writeCa(dir: string, certPem: string): string {
  const file = path.join(dir, 'fetch-ca.pem');
  writeFileSync(file, certPem);
  return file;
}
