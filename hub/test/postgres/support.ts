import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { precondition, type Precondition } from '../../../test/support/preconditions.js';
import { createTestDatabase, postgresReachable, type TestDatabase } from '../../src/store/testing.js';

/** The machine's PostgreSQL (CI starts it: .ci/services.sh); override with SONDE_TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL = process.env.SONDE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The `postgres` precondition of a test file, and fresh databases dropped by `dropAll` (the file's afterAll). */
export async function postgresForTests(
  testFile: string,
): Promise<{ available: Precondition; fresh(): Promise<string>; dropAll(): Promise<void> }> {
  const reachable = await postgresReachable(TEST_POSTGRES_URL);
  const created: TestDatabase[] = [];
  return {
    available: precondition(testFile, 'postgres', reachable.ok, reachable.reason),
    async fresh() {
      const database = await createTestDatabase(TEST_POSTGRES_URL);
      created.push(database);
      return database.url;
    },
    async dropAll() {
      for (const database of created.splice(0)) await database.drop();
    },
  };
}

/** The certificate a TLS server presents on 127.0.0.1:`port` (no verification: we check it ourselves). */
export function serverCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(raw));
    });
    socket.on('error', reject);
  });
}

/** One HTTPS request to a hub whose certificate is checked against `caPem`. */
export function hubRequest(
  url: string,
  caPem: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        ca: caPem,
        headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body === undefined ? undefined : JSON.stringify(init.body));
  });
}
