import pg from 'pg';
import type { StoreBackdoor } from '../backdoor.js';

const AUDIT_COLUMNS = new Set(['seq', 'at', 'action', 'status', 'detail', 'params', 'agents', 'hash', 'prev_hash']);

/** A connection of its own on the database: writes the way another tool (or an attacker) with the database would. */
export async function postgresBackdoor(url: string): Promise<StoreBackdoor> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async editAuditRow(seq, columns) {
      const names = Object.keys(columns);
      for (const name of names) if (!AUDIT_COLUMNS.has(name)) throw new Error(`no audit column ${name}`);
      await client.query(
        `UPDATE audit_log SET ${names.map((name, i) => `${name} = $${i + 1}`).join(', ')} WHERE seq = $${names.length + 1}`,
        [...names.map((name) => columns[name] ?? null), seq],
      );
    },
    async deleteAuditRows(fromSeq, toSeq = fromSeq) {
      await client.query('DELETE FROM audit_log WHERE seq >= $1 AND seq <= $2', [fromSeq, toSeq]);
    },
    async setSetting(key, value) {
      await client.query('UPDATE settings SET value = $1 WHERE key = $2', [value, key]);
    },
    async dumpText() {
      const { rows } = await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'");
      const out: unknown[] = [];
      for (const { name } of rows) out.push([name, (await client.query(`SELECT * FROM "${name}"`)).rows]);
      return JSON.stringify(out);
    },
    close: () => client.end(),
  };
}
