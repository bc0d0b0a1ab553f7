/** REST answers shaped like the hub's (see the OpenAPI document), for element unit tests. */
export function agentView(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `id-${name}`,
    name,
    status: 'online',
    reasons: [],
    connected: true,
    lastSeenAt: new Date().toISOString(),
    enrolledAt: '2026-12-01T00:00:00.000Z',
    agentVersion: '0.1.0',
    os: 'Debian GNU/Linux 12',
    packs: [],
    isolation: 'permission-model',
    ...overrides,
  };
}

export const processesTop = {
  name: 'processes.top',
  description: 'Top processes by CPU or memory.',
  params: {
    type: 'object',
    properties: {
      sortBy: { type: 'string', enum: ['cpu', 'memory'], default: 'cpu' },
      limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      user: { type: 'string', description: 'only this user' },
      pids: { type: 'array', items: { type: 'integer' } },
      verbose: { type: 'boolean' },
    },
    required: ['sortBy', 'limit'],
    additionalProperties: false,
  },
  result: { type: 'object' },
};

export function systemPack(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'system',
    version: '0.1.0',
    state: 'active',
    manifest: { name: 'system', version: '0.1.0', description: 'system', probes: [processesTop] },
    ...overrides,
  };
}

export const hubError = (status: number, code: string, message: string) => ({ status, body: { error: { code, message } } });

export function keyView(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `key-${name}`,
    name,
    type: 'user',
    role: 'member',
    prefix: 'sonde_ab12',
    policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] },
    agentId: null,
    createdAt: '2026-12-01T00:00:00.000Z',
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  };
}
