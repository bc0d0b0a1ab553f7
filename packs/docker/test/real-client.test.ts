import { existsSync } from 'node:fs';
import { createHostContext, runProbe } from '@sonde/pack-sdk';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const hasClient = ['/usr/bin/docker', '/usr/local/bin/docker'].some((p) => existsSync(p));
const hasDaemon = existsSync('/var/run/docker.sock');

// This machine has the docker client but no engine: the real CLI must produce the same clear error as the recordings.
describe.skipIf(!hasClient || hasDaemon)('docker probes with the real client and no daemon', () => {
  it('daemon.info and containers.list report the daemon as not running', async () => {
    for (const probe of ['daemon.info', 'containers.list']) {
      await expect(
        runProbe(pack, probe, {}, (signal) => createHostContext({ permissions: pack.manifest.permissions, signal })),
        probe,
      ).rejects.toMatchObject({ code: 'SONDE_ERR_COMMAND_FAILED', message: expect.stringMatching(/Docker daemon is not running/) });
    }
  });
});
