import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { createSealer } from '../../crypto/sealer.js';
import type { AuditRecord } from '../../services.js';
import { openHubStore } from '../../store/open.js';
import { createAuditLog } from '../audit-log.js';
import { AuditExporter, type ExportSink } from './exporter.js';

/** The exporter on a real SQLite store with an in-process sink the test opens and shuts, and a log it reads. */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('AuditExporter alerts', () => {
  it('logs failing, behind and recovered/caught up once each, and reports lag while the sink refuses', async () => {
    const { dir, cleanup } = tempDir('sonde-exporter-');
    cleanups.push(cleanup);
    const store = await openHubStore(path.join(dir, 'sonde.db'));
    cleanups.push(() => store.close());
    const audit = createAuditLog(store, Buffer.alloc(32, 1), createSealer(new Map([['k', Buffer.alloc(32, 2)]]), 'k'));
    let open = false;
    const got: number[] = [];
    const sink: ExportSink = {
      name: 'test',
      deliver(entries: AuditRecord[]) {
        if (!open) return Promise.reject(new Error('collector down'));
        got.push(...entries.map((e) => e.seq));
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const logs: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const log = {
      warn: (fields: object, message: string) => logs.push({ level: 'warn', message, fields: fields as Record<string, unknown> }),
      info: (fields: object, message: string) => logs.push({ level: 'info', message, fields: fields as Record<string, unknown> }),
    };
    const exporter = new AuditExporter({ store, sinks: [sink], log, pollMs: 50, retryBaseMs: 20, retryMaxMs: 50, behindSeconds: 1 });
    audit.onCommit((seq) => exporter.notify(seq));
    exporter.start();
    cleanups.push(() => exporter.stop());

    for (let i = 0; i < 5; i++) await audit.append({ action: 'test', actor: { kind: 'system', id: null, name: null }, status: 'ok' });
    const until = async (what: string, check: () => boolean): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await until('behind', () => logs.some((l) => l.message.startsWith('audit export is behind')));
    const [status] = exporter.status();
    expect(status).toMatchObject({ sink: 'test', cursor: 0, lagEntries: 5, failing: true, lastError: 'collector down' });
    expect(status.lagSeconds).toBeGreaterThan(1);
    expect(logs.filter((l) => l.message === 'audit export failing; retrying')[0].fields).toMatchObject({
      attempt: 1,
      error: 'collector down',
    });

    open = true;
    await until('caught up', () => logs.some((l) => l.message === 'audit export caught up'));
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(logs.filter((l) => l.message.startsWith('audit export is behind'))).toHaveLength(1);
    expect(logs.filter((l) => l.message === 'audit export recovered')).toHaveLength(1);
    expect(exporter.status()[0]).toMatchObject({ cursor: 5, lagEntries: 0, lagSeconds: 0, failing: false, delivered: 5 });
    expect(await store.settings.get('audit.export.test.cursor')).toBe('5');
    expect(exporter.acknowledgedUpTo()).toBe(5);
  });
});
