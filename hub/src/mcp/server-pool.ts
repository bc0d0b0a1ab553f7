import type { Server } from '@modelcontextprotocol/sdk/server/index.js';

/**
 * Idle MCP servers kept for reuse. Stateless HTTP connects a server to a fresh
 * transport per request; reusing servers (close, then connect again) avoids
 * rebuilding handlers and measured about 5× the throughput of building one per
 * request (shared/toolchain.md).
 */
export class ServerPool {
  private readonly idle: Server[] = [];

  constructor(
    private readonly create: () => Server,
    private readonly maxIdle = 16,
  ) {}

  acquire(): Server {
    return this.idle.pop() ?? this.create();
  }

  release(server: Server): void {
    if (this.idle.length < this.maxIdle) this.idle.push(server);
  }

  get idleCount(): number {
    return this.idle.length;
  }
}
