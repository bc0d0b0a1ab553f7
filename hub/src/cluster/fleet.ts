import type { AgentView, Fleet } from '../services.js';
import type { AgentDirectory } from '../fleet/directory.js';
import { describeOs } from '../gateway/attestation.js';
import { packProblems } from '../gateway/fleet.js';
import type { AgentRecord } from '../store/types.js';
import type { Presence } from './presence.js';

/**
 * The whole fleet as any hub sees it: this hub's live sessions (the gateway's
 * own view) plus agents another live hub holds (presence), shown from their
 * stored record, which the holder keeps current (packs, version, degraded
 * reasons) and announces to the other hubs. Removed agents are not part of it.
 */
export class ClusterFleet implements Fleet {
  constructor(
    private readonly local: Fleet,
    private readonly directory: AgentDirectory,
    private readonly presence: Presence,
    private readonly hubId: string,
    private readonly leasesVersion: () => number,
  ) {}

  list(): AgentView[] {
    return this.local.list().map((view) => (view.connected ? view : this.remote(view)));
  }

  get(nameOrId: string): AgentView | undefined {
    const view = this.local.get(nameOrId);
    return view && !view.connected ? this.remote(view) : view;
  }

  version(): number {
    return (this.local.version?.() ?? 0) + this.presence.version() + this.leasesVersion();
  }

  /** Which live hub holds the agent's socket (this one included), if any. */
  holderOf(agentId: string): string | undefined {
    return this.presence.holderOf(agentId);
  }

  private remote(view: AgentView): AgentView {
    const holder = this.presence.holderOf(view.id);
    if (!holder || holder === this.hubId) return view;
    const record: AgentRecord | undefined = this.directory.getById(view.id);
    if (!record) return view;
    const reasons = [...record.degradedReasons, ...packProblems(record.packs)];
    return {
      ...view,
      status: reasons.length > 0 ? 'degraded' : 'online',
      reasons,
      connected: true,
      agentVersion: record.agentVersion,
      os: describeOs(record.attestationBaseline),
      packs: record.packs,
    };
  }
}
