import type { AuditEntryInput, AuditLog, AuditRecord } from '../../../src/services.js';

/** Records audit entries in memory so tests can assert what was logged. */
export class MemoryAudit implements AuditLog {
  readonly entries: AuditRecord[] = [];

  append(entry: AuditEntryInput): Promise<AuditRecord> {
    const record: AuditRecord = { ...entry, seq: this.entries.length + 1, at: new Date().toISOString(), hash: '' };
    this.entries.push(record);
    return Promise.resolve(record);
  }

  actions(): string[] {
    return this.entries.map((entry) => entry.action);
  }
}
