import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suites whose outcome depends on the Node runtime, for CI's second Node line
 * (`node scripts/run-tests.mjs --runtime`; .ci/run says which line is primary and why).
 * The rest of the suite is plain JavaScript over zod, Fastify and our own code: if it passes
 * on one supported Node it passes on the other. What differs between Node lines is here:
 */
const RUNTIME_SUITES = [
  // The permission model (--permission flags), pack processes, setpriv/unshare, process groups and signals.
  'agent/test/sandbox/**/*.test.ts',
  'pack-sdk/src/sandbox/**/*.test.ts',
  'hub/test/integrations/sandbox.test.ts',
  // Spawning probes' commands (execFile, timeouts, output caps) and the host guard's path handling.
  'pack-sdk/src/runtime/**/*.test.ts',
  'pack-sdk/test/host-context.test.ts',
  // Crypto: signed envelopes, Ed25519/RSA keys, pack signatures, the CA, TLS and mTLS.
  'pack-sdk/src/protocol/**/*.test.ts',
  'registry/src/crypto/**/*.test.ts',
  'registry/test/sign-verify.test.ts',
  'hub/src/ca/**/*.test.ts',
  'hub/src/crypto/**/*.test.ts',
  'hub/test/gateway/mtls.test.ts',
  'hub/test/tls.test.ts',
  'agent/test/tls.test.ts',
  // The SQLite driver (better-sqlite3 12 on Node 20, 13 on 22+: hub/src/store/sqlite/driver.ts) and the audit chain's worker threads.
  'hub/src/store/sqlite/**/*.test.ts',
  'hub/src/audit/**/*.test.ts',
  // Whole processes on this runtime: the hub process on its driver, the agent as the unprivileged user against it.
  'hub/test/serve.test.ts',
  'agent/test/real-hub.test.ts',
  'agent/test/agent-process.test.ts',
];

export default defineConfig({
  ...base,
  test: { ...base.test, include: RUNTIME_SUITES },
});
