import type { HubStore } from '../store/types.js';

/** Instance names and packs, kept in memory for the MCP catalog (refreshed on every change made here and at load). */
export class InstanceTargets {
  private targets: Array<{ name: string; pack: string }> = [];

  constructor(private readonly store: HubStore) {}

  async refresh(): Promise<void> {
    this.targets = (await this.store.integrations.listInstances()).map((r) => ({ name: r.name, pack: r.pack }));
  }

  /** Instance names and packs only, without opening any credentials (MCP lists and routes tools with these). */
  list(): Array<{ name: string; pack: string }> {
    return this.targets;
  }

  find(name: string): { name: string; pack: string } | undefined {
    return this.targets.find((target) => target.name === name);
  }
}
