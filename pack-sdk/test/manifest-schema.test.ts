import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { definePack, packManifestJsonSchema, PackManifestSchema, UNVERSIONED } from '@sonde/pack-sdk';
import { z } from 'zod';

const written = path.resolve(import.meta.dirname, '../schema/sonde-pack.schema.json');

describe('sonde-pack.schema.json', () => {
  it('is derived from PackManifestSchema and covers the permission shapes', () => {
    const schema = packManifestJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown> }> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'version', 'permissions', 'probes', 'runbooks']));
    expect(Object.keys(schema.properties.permissions.properties!)).toEqual(['commands', 'files', 'groups', 'network', 'credentials']);
  });

  it.runIf(existsSync(written))('matches the file the build wrote (run `npm run build` if this fails)', () => {
    expect(JSON.parse(readFileSync(written, 'utf8'))).toEqual(packManifestJsonSchema());
  });
});

describe('definePack and the version', () => {
  it('takes no version: package.json holds it, and a definition without one still builds a valid manifest', () => {
    const pack = definePack({
      name: 'noversion',
      description: 'A pack whose version lives only in package.json.',
      permissions: { files: ['/proc/uptime'] },
      probes: [
        {
          name: 'uptime',
          description: 'Seconds since boot.',
          params: z.object({}),
          result: z.object({ seconds: z.number() }),
          handler: () => Promise.resolve({ seconds: 1 }),
        },
      ],
    });
    expect(PackManifestSchema.parse(pack.manifest).version).toBe(UNVERSIONED);
  });
});

describe("definePack and its probes' JSON Schemas", () => {
  const Params = z.object({ path: z.string().default('/'), depth: z.number().int().min(1).optional() }).strict();
  const Result = z.object({ entries: z.array(z.object({ name: z.string(), bytes: z.number() })), total: z.number().default(0) });
  const define = (result: z.ZodType = Result) =>
    definePack({
      name: 'lazy',
      description: 'JSON Schemas made when first read.',
      permissions: { files: ['/tmp/**'] },
      probes: [
        {
          name: 'list',
          description: 'Lists a folder.',
          params: Params,
          result,
          handler: () => Promise.resolve({ entries: [] }),
        },
      ],
    });
  const eager = (schema: z.ZodType, io: 'input' | 'output') => {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'throw' }) as Record<string, unknown>;
    delete json.$schema;
    return json;
  };

  it('are the same values read before or after any other use, and in the manifest as JSON', () => {
    const expected = { params: eager(Params, 'input'), result: eager(Result, 'output') };
    const readFirst = define();
    const [probe] = readFirst.manifest.probes;
    expect(probe.params).toEqual(expected.params);
    expect(probe.result).toEqual(expected.result);
    // Made once: every later read gives the same object, a plain data property in its place.
    expect(probe.params).toBe(probe.params);
    expect(Object.getOwnPropertyDescriptor(probe, 'params')).toMatchObject({ value: probe.params, writable: true, enumerable: true });

    const serialisedFirst = define();
    const json = JSON.parse(JSON.stringify(serialisedFirst.manifest)) as typeof serialisedFirst.manifest;
    expect(json.probes[0]).toEqual({ ...probe });
    expect(Object.keys(serialisedFirst.manifest.probes[0])).toEqual([
      'name',
      'description',
      'capability',
      'timeoutMs',
      'maxOutputBytes',
      'openWorld',
      'params',
      'result',
    ]);
    expect(JSON.stringify(serialisedFirst.manifest)).toBe(JSON.stringify(readFirst.manifest));
    // What sonde-pack.json is written from: a parse of the manifest with the schemas in it.
    expect(PackManifestSchema.parse(define().manifest).probes[0]).toEqual({ ...probe });
  });

  it('are not made by definePack: a schema JSON Schema cannot express throws when its JSON Schema is read', () => {
    const pack = define(z.object({ big: z.bigint() }));
    // Still the accessor definePack put there: an accessor has no value.
    expect(Object.getOwnPropertyDescriptor(pack.manifest.probes[0], 'result')).not.toHaveProperty('value');
    expect(pack.manifest.probes[0].params).toEqual(eager(Params, 'input'));
    expect(() => pack.manifest.probes[0].result).toThrow(/lazy\.list result: schema cannot be expressed as JSON Schema/);
    expect(() => JSON.stringify(pack.manifest)).toThrow(expect.objectContaining({ code: 'SONDE_ERR_INVALID_MANIFEST' }));
  });

  it('can be replaced like any member', () => {
    const pack = define();
    pack.manifest.probes[0].result = { type: 'object' };
    expect(pack.manifest.probes[0].result).toEqual({ type: 'object' });
  });
});
