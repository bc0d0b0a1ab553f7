import { Database } from './driver.js';
import type { StoreBackdoor } from '../backdoor.js';

const AUDIT_COLUMNS = new Set(['seq', 'at', 'action', 'status', 'detail', 'params', 'agents', 'hash', 'prev_hash']);

/** A second connection on the file: writes the way another tool (or an attacker) with the file would. */
export function sqliteBackdoor(file: string): StoreBackdoor {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  return {
    editAuditRow(seq, columns) {
      const names = Object.keys(columns);
      for (const name of names) if (!AUDIT_COLUMNS.has(name)) throw new Error(`no audit column ${name}`);
      db.prepare(`UPDATE audit_log SET ${names.map((name) => `${name} = ?`).join(', ')} WHERE seq = ?`).run(
        ...names.map((name) => columns[name] ?? null),
        seq,
      );
      return Promise.resolve();
    },
    deleteAuditRows(fromSeq, toSeq = fromSeq) {
      db.prepare('DELETE FROM audit_log WHERE seq >= ? AND seq <= ?').run(fromSeq, toSeq);
      return Promise.resolve();
    },
    setSetting(key, value) {
      db.prepare('UPDATE settings SET value = ? WHERE key = ?').run(value, key);
      return Promise.resolve();
    },
    dumpText() {
      const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      return Promise.resolve(JSON.stringify(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all()])));
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}
