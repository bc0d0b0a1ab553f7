import type { AgentChange, AgentRecord, HubStore } from '../store/types.js';

/**
 * The fleet's agent records in memory, for the readers that must answer
 * synchronously and often: the MCP catalog, probe routing and the fleet view.
 * It is fed by the store's change feed (`AgentStore.watch`): every write
 * through the store arrives as the committed record before the write's
 * Promise resolves; a `resync` (on SQLite: another process such as the CLI
 * committed, seen by the store's data-version poll; a transaction rolled back)
 * reloads the whole list. Writes never go through here.
 *
 * Records are shared with the store: never mutate them.
 */
export class AgentDirectory {
  private byId = new Map<string, AgentRecord>();
  private byName = new Map<string, AgentRecord>();
  private ordered: AgentRecord[] | null = null;
  /** Where each id sits in `ordered` (built with it): a last-seen write replaces its record in place without a scan. */
  private positions = new Map<string, number>();
  private changes = 0;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  /** Puts seen while a reload is under way: applied again over the reloaded list, which may predate them. */
  private putsDuringReload: AgentRecord[] | undefined;
  private readonly unwatch: () => void;

  private constructor(private readonly store: Pick<HubStore, 'agents'>) {
    this.unwatch = store.agents.watch((change) => this.apply(change));
  }

  /** A directory loaded with every stored agent and following the store's changes from then on. */
  static async open(store: Pick<HubStore, 'agents'>): Promise<AgentDirectory> {
    const directory = new AgentDirectory(store);
    await directory.reload();
    return directory;
  }

  getById(id: string): AgentRecord | undefined {
    return this.byId.get(id);
  }

  getByName(name: string): AgentRecord | undefined {
    return this.byName.get(name);
  }

  /** By id, else by name (what MCP and REST callers pass). */
  find(nameOrId: string): AgentRecord | undefined {
    return this.byId.get(nameOrId) ?? this.byName.get(nameOrId);
  }

  /** Every record (removed agents included), by name. */
  list(): readonly AgentRecord[] {
    if (!this.ordered) {
      this.ordered = [...this.byId.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.positions = new Map(this.ordered.map((record, index) => [record.id, index]));
    }
    return this.ordered;
  }

  /** Moves whenever a record changes other than its last-seen time: views derived from records are rebuilt only then. */
  version(): number {
    return this.changes;
  }

  /** Resolves when no reload is pending (tests, and callers that just wrote through another store instance). */
  async settled(): Promise<void> {
    while (this.reloading) await this.reloading;
  }

  close(): void {
    this.unwatch();
  }

  /**
   * Multi-hub: another hub wrote these agents' records (hub/src/cluster announces its writes), so they are
   * read again from the store; the change feed covers only this process's writes.
   */
  async refresh(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const record = await this.store.agents.getById(id);
      if (!record) continue;
      this.putsDuringReload?.push(record);
      this.put(record);
    }
  }

  private apply(change: AgentChange): void {
    if (change.kind === 'resync') {
      void this.reload();
      return;
    }
    this.putsDuringReload?.push(change.record);
    this.put(change.record);
  }

  private put(record: AgentRecord): void {
    const old = this.byId.get(record.id);
    if (old && this.byName.get(old.name) === old) this.byName.delete(old.name);
    this.byId.set(record.id, record);
    this.byName.set(record.name, record);
    if (!old || old.name !== record.name) this.ordered = null;
    // Same name, same place: every heartbeat's last-seen write lands here (O(1), not a scan of the fleet).
    else if (this.ordered) this.ordered[this.positions.get(record.id)!] = record;
    if (!old || !sameButLastSeen(old, record)) this.changes++;
  }

  private reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.putsDuringReload = [];
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          const records = await this.store.agents.list();
          const puts = this.putsDuringReload ?? [];
          this.putsDuringReload = [];
          this.byId = new Map();
          this.byName = new Map();
          this.ordered = null;
          for (const record of records) this.put(record);
          for (const record of puts) this.put(record);
          this.changes++;
        } while (this.reloadAgain);
      } finally {
        this.putsDuringReload = undefined;
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }
}

export function sameButLastSeen(a: AgentRecord, b: AgentRecord): boolean {
  for (const key of Object.keys(b) as (keyof AgentRecord)[]) {
    if (key !== 'lastSeenAt' && a[key] !== b[key]) return false;
  }
  return true;
}
