import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { openHubCoreAsync } from '../src/core.js';
import { tempDir, testConfig } from './helpers.js';

const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const loaded = (name: string): boolean => fromFastify.resolve(name) in fromFastify.cache;

describe('hub start-up work', () => {
  it('loads the JSON-schema compilers only for a route with a Fastify schema, which still validates', async () => {
    const { dir, cleanup } = tempDir();
    const config = testConfig(path.join(dir, 'sonde.db'));
    // The server's path: the core opened first (scrypt off the main thread), handed to buildApp.
    const app = await buildApp(config, {
      logger: false,
      core: await openHubCoreAsync({ dbPath: config.dbPath, secret: config.secret, ca: true }),
    });
    try {
      expect(loaded('@fastify/ajv-compiler')).toBe(false);
      expect(loaded('@fastify/fast-json-stringify-compiler')).toBe(false);
      app.post(
        '/schema-check',
        { schema: { body: { type: 'object', required: ['a'], properties: { a: { type: 'integer' } } } } },
        (request) => request.body,
      );
      await app.ready();
      expect(loaded('@fastify/ajv-compiler')).toBe(true);
      expect((await app.inject({ method: 'POST', url: '/schema-check', payload: { a: 1 } })).json()).toEqual({ a: 1 });
      expect((await app.inject({ method: 'POST', url: '/schema-check', payload: { b: 1 } })).statusCode).toBe(400);
      expect((await app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
      cleanup();
    }
  });
});
