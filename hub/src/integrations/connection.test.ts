import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PackManifestSchema } from '@sonde/pack-sdk';
import { judgeConnection, pickConnectionProbe } from './connection.js';

const manifest = (pack: string) =>
  PackManifestSchema.parse(JSON.parse(readFileSync(new URL(`../../../packs/${pack}/sonde-pack.json`, import.meta.url), 'utf8')));

describe('Test Connection probe', () => {
  it.each([
    ['http', 'health'],
    ['prometheus', 'buildinfo'],
    ['proxmox', 'version'],
    ['servicenow', 'incidents.open'],
    ['citrix', 'sites.list'],
  ])('%s runs %s', (pack, probe) => {
    expect(pickConnectionProbe(manifest(pack))).toBe(probe);
  });

  it('never picks a probe that needs a parameter', () => {
    const m = manifest('servicenow');
    const only = { ...m, runbooks: [], probes: m.probes.filter((p) => p.name === 'incident.get') };
    expect(pickConnectionProbe(only)).toBeNull();
  });

  it('a probe that answers "unreachable" or "not ok" is an error', () => {
    expect(judgeConnection({ reachable: false, error: 'ECONNREFUSED' })).toBe('unreachable: ECONNREFUSED');
    expect(judgeConnection({ reachable: true, ok: false, status: 503, error: null })).toBe('answered with status 503');
    expect(judgeConnection({ reachable: true, ok: true, status: 200 })).toBeNull();
    expect(judgeConnection({ version: '2.45.0' })).toBeNull();
  });
});
