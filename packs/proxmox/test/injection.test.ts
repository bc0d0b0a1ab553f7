import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog, stringParams } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const E = 'https://pve1.example.com:8006';
const EVIL = [
  'pve1/../../access',
  '../access/users',
  'pve1/qemu/100/status/stop',
  'pve1?x=1',
  'pve1#x',
  'pve1%2f..',
  'pve1\r\nX: y',
  '-pve1',
  'pve 1',
  '',
  'a'.repeat(100),
];
const STRING_PARAMS = ['vms.list.node', 'vms.list.status', 'vms.list.type', 'node.storage.node', 'tasks.recent.node'];

describe('injection attempts on every string param of the proxmox pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = stringParams(pack);
    expect(declared.sort()).toEqual([...STRING_PARAMS].sort());
  });

  for (const name of STRING_PARAMS) {
    it(`${name}: refused at validation, nothing is sent`, async () => {
      const probe = name.slice(0, name.lastIndexOf('.'));
      const param = name.slice(name.lastIndexOf('.') + 1);
      for (const value of EVIL) {
        const calls: CallLog = { commands: [], files: [], http: [] };
        const error = await runProbe(pack, probe, { node: 'pve1', [param]: value }, (signal) =>
          createFixtureContext(pack, { endpoint: E, credentials: { tokenId: 'a@pve!b', tokenSecret: '12345678-aaaa' } }, signal, calls),
        ).then(
          () => undefined,
          (e: SondeError) => e,
        );
        expect(error?.code, `${name}=${JSON.stringify(value)}`).toBe('SONDE_ERR_INVALID_PARAMS');
        expect(calls.http).toEqual([]);
      }
    });
  }
});
