/**
 * Statement text of other sessions (pg_stat_activity, pg_stat_statements, MySQL's PROCESSLIST) is the one
 * place where probes routinely return what someone else typed, passwords included
 * (`ALTER ROLE app PASSWORD '…'`, `CREATE USER … IDENTIFIED BY '…'`). The database packs return it
 * normalized by default: every literal becomes `?`, the statement's shape (keywords, tables, columns) stays,
 * which is what a slow-query or lock diagnosis needs. Full text is an explicit opt-in, and still passes the
 * agent's scrubber.
 *
 * Linear-time: inside a literal the body consumes every character but the closing quote, and a literal cut
 * off by the server's truncation (even after a lone backslash) runs to the end of the text, so no start
 * position backtracks over the rest of the input.
 */
const POSTGRES_LITERALS =
  /\b[Ee]'(?:[^'\\]|\\[\s\S]|'')*(?:'|\\?$)|(?:\b[BbXxUu]&?)?'(?:[^']|'')*(?:'|$)|\$([A-Za-z_][A-Za-z0-9_]{0,62})?\$[\s\S]*?(?:\$\1\$|$)|(?<![\w$.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b/g;
const MYSQL_LITERALS =
  /(?:\b_[A-Za-z0-9]{1,32}|\b[XxBbNn])?'(?:[^'\\]|\\[\s\S]|'')*(?:'|\\?$)|"(?:[^"\\]|\\[\s\S]|"")*(?:"|\\?$)|(?<![\w$.])-?(?:0x[0-9A-Fa-f]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\b/g;

export type SqlDialect = 'postgres' | 'mysql';

/** `ALTER ROLE app PASSWORD 'x'` → `ALTER ROLE app PASSWORD ?`; `WHERE id = 42` → `WHERE id = ?`. */
export function normalizeStatement(text: string, dialect: SqlDialect): string;
export function normalizeStatement(text: string | null, dialect: SqlDialect): string | null;
export function normalizeStatement(text: string | null, dialect: SqlDialect): string | null {
  if (text === null) return null;
  return text.replace(dialect === 'postgres' ? POSTGRES_LITERALS : MYSQL_LITERALS, '?');
}
