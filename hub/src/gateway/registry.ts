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
    return true;
  }

  release(connection: AgentConnection): void {
    this.open.delete(connection);
    if (this.byId.get(connection.agentId) === connection) this.byId.delete(connection.agentId);
    if (this.byName.get(connection.name) === connection) this.byName.delete(connection.name);
  }

  connections(): AgentConnection[] {
    return [...this.open];
  }

  forAgent(agentId: string): AgentConnection[] {
    return [...this.open].filter((connection) => connection.agentId === agentId);
  }
}
