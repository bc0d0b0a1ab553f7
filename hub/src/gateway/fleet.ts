import type { PackStatus } from '@sonde/pack-sdk/protocol';
import type { AgentStatus, AgentView, Fleet } from '../services.js';
import type { AgentDirectory } from '../fleet/directory.js';
import type { AgentRecord } from '../store/types.js';
import { describeOs } from './attestation.js';
import type { ConnectionRegistry } from './registry.js';

/**
 * The fleet as the MCP layer and REST see it: stored records joined with the
 * live connections of this process. Removed agents are not part of the fleet.
 */
export class GatewayFleet implements Fleet {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly directory: AgentDirectory,
  ) {}

  list(): AgentView[] {
    const views: AgentView[] = [];
    for (const record of this.directory.list()) if (!record.removedAt) views.push(this.view(record));
    return views.sort((a, b) => byName.compare(a.name, b.name));
  }

  /**
   * Changes whenever a stored record (other than its last-seen time) or a
   * connection changes: the MCP catalog is rebuilt only then.
   */
  version(): number {
    return this.directory.version() + this.registry.version();
  }

  get(nameOrId: string): AgentView | undefined {
    const record = this.directory.find(nameOrId);
    return record && !record.removedAt ? this.view(record) : undefined;
  }

  /** What `get` names, without building the view (packs, reasons, OS): the per-agent admission asks on every dispatch. */
  identify(nameOrId: string): { id: string; name: string } | undefined {
    const record = this.directory.find(nameOrId);
    return record && !record.removedAt ? record : undefined;
  }

  private view(record: AgentRecord): AgentView {
    const connection = this.registry.holder(record.id);
    const session = connection?.state === 'registered' ? connection.session : null;
    const packs = session?.packs ?? record.packs;
    const reasons = [...record.degradedReasons, ...packProblems(packs)];
    const status: AgentStatus = !session ? 'offline' : reasons.length > 0 ? 'degraded' : 'online';
    return {
      id: record.id,
      name: record.name,
      status,
      reasons,
      connected: session !== null,
      lastSeenAt: session && connection ? new Date(connection.lastActivity).toISOString() : record.lastSeenAt,
      enrolledAt: record.enrolledAt,
      agentVersion: session?.agentVersion ?? record.agentVersion,
      os: describeOs(session?.attestation ?? record.attestationBaseline),
      packs,
      isolation: session?.isolation ?? null,
    };
  }
}

/** Same order as `localeCompare` without arguments, without building a collator per comparison. */
const byName = new Intl.Collator();

/** Failed and quarantined packs make a connected agent degraded while they last (not stored as reasons). */
export function packProblems(packs: PackStatus[]): string[] {
  return packs
    .filter((pack) => pack.state === 'failed' || pack.state === 'quarantined')
    .map((pack) => `pack ${pack.name} ${pack.state}${pack.reason ? `: ${pack.reason}` : ''}`);
}
