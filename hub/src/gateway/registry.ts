import type { AgentConnection } from './connection.js';

/**
 * Which connection holds which agent identity in this hub process. At most
 * one registered connection per agent id; `claim` is synchronous so two
 * registrations can never both win.
 */
export class ConnectionRegistry {
  private readonly byId = new Map<string, AgentConnection>();
  private readonly byName = new Map<string, AgentConnection>();
  /** Every open socket, registered or not (for shutdown and the liveness sweep). */
  private readonly open = new Set<AgentConnection>();
  private changes = 0;

  /** Bumped whenever an identity is claimed or released (the fleet view caches on it). */
  version(): number {
    return this.changes;
  }

  track(connection: AgentConnection): void {
    this.open.add(connection);
  }

  holder(agentId: string): AgentConnection | undefined {
    return this.byId.get(agentId);
  }

  /** By id or name, registered connections only. */
  find(nameOrId: string): AgentConnection | undefined {
    return this.byId.get(nameOrId) ?? this.byName.get(nameOrId);
  }

  /** Returns false when another connection holds the identity. */
  claim(connection: AgentConnection): boolean {
    const current = this.byId.get(connection.agentId);
    if (current && current !== connection) return false;
    this.byId.set(connection.agentId, connection);
    this.byName.set(connection.name, connection);
    this.changes++;
    return true;
  }

  release(connection: AgentConnection): void {
    this.open.delete(connection);
    if (this.byId.get(connection.agentId) === connection) {
      this.byId.delete(connection.agentId);
      this.changes++;
    }
    if (this.byName.get(connection.name) === connection) this.byName.delete(connection.name);
  }

  connections(): AgentConnection[] {
    return [...this.open];
  }

  forAgent(agentId: string): AgentConnection[] {
    return [...this.open].filter((connection) => connection.agentId === agentId);
  }
}
