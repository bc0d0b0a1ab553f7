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
