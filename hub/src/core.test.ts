import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, TEST_SECRET } from '../test/helpers.js';
import { openHubCore, openHubCoreAsync } from './core.js';
import { HubError } from './errors.js';

describe('hub core', () => {
  it('the server (asynchronous) and the CLI (synchronous) open the same database to the same keys and CA', async () => {
    const { dir, cleanup } = tempDir();
    const options = { dbPath: path.join(dir, 'sonde.db'), secret: TEST_SECRET, ca: true };
    try {
      const first = await openHubCoreAsync(options);
      const sealed = first.crypto.sealer.seal('kept', 'ctx');
      const { certPem } = first.ca!;
      await first.close();
      const again = await openHubCore(options);
      expect(again.crypto.sealer.openText(sealed, 'ctx')).toBe('kept');
      expect(again.ca!.certPem).toBe(certPem);
      await again.close();
      const reopened = await openHubCoreAsync(options);
      expect(reopened.crypto.auditKey.equals(again.crypto.auditKey)).toBe(true);
      expect(reopened.ca!.certPem).toBe(certPem);
      await reopened.close();
      await expect(openHubCoreAsync({ ...options, secret: 'another-secret-that-is-long-enough-1234' })).rejects.toBeInstanceOf(HubError);
    } finally {
      cleanup();
    }
  });
});
