import { existsSync } from 'node:fs';
import { createHostContext, runProbe } from '@sonde/pack-sdk';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const systemdBooted = existsSync('/run/systemd/system');
const hasSystemctl = ['/usr/bin/systemctl', '/bin/systemctl'].some((p) => existsSync(p));

// Here systemctl is installed but systemd is not PID 1: the real binary must give the same clear error as the recording.
describe.skipIf(systemdBooted || !hasSystemctl)('systemd probes with real systemctl on a host without systemd as init', () => {
  it('units.failed reports that systemd is not the init system', async () => {
    await expect(
      runProbe(pack, 'units.failed', {}, (signal) => createHostContext({ permissions: pack.manifest.permissions, signal })),
    ).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      message: expect.stringMatching(/systemd is not the init system/),
    });
  });
});
