/**
 * Out-of-band access to a hub database, for tests only: what someone with the
 * database itself could do behind the hub's back (rewrite an audit row, read
 * every stored value). The hub never uses it; each store backend provides one.
 */
export interface StoreBackdoor {
  /** Overwrites stored columns of one audit row (no chain update). Columns by their stored names, e.g. `status`, `detail`, `hash`. */
  editAuditRow(seq: number, columns: Record<string, string | number | null>): Promise<void>;
  /** Deletes the audit rows `fromSeq..toSeq` (default just `fromSeq`). */
  deleteAuditRows(fromSeq: number, toSeq?: number): Promise<void>;
  /** Overwrites an existing setting. */
  setSetting(key: string, value: string): Promise<void>;
  /** Every stored row of every table as one text, to check a secret is stored nowhere in the clear. */
  dumpText(): Promise<string>;
  close(): Promise<void>;
}
