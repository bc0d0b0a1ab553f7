import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packManifestJsonSchema } from '@sonde/pack-sdk';

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
