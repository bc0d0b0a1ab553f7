/**
 * Codes the gateway puts on the wire (`reject`), in dispatch results and in
 * 401 bodies. Stable: agents and MCP clients key on them.
 */
export const GatewayErrorCodes = {
  SONDE_ERR_UNAUTHORIZED: 'The agent connection carried no valid certificate or agent API key.',
  SONDE_ERR_DUPLICATE_IDENTITY: 'Another live connection already holds this agent identity.',
  SONDE_ERR_AGENT_REMOVED: 'The agent was removed or its credentials revoked.',
  SONDE_ERR_NOT_REGISTERED: 'The first message on a connection must be agent.register.',
  SONDE_ERR_CHALLENGE_MISSING:
    'agent.register carried no connection challenge: the agent is older than the hub (upgrade the agent) or the frame was made for no connection.',
  SONDE_ERR_CHALLENGE_MISMATCH:
    "agent.register was signed for another connection (another nonce) or another hub (a host that is not one of this hub's names): a replayed or relayed frame.",
  SONDE_ERR_RATE_LIMITED: 'Too many refused attempts from this address; wait for Retry-After.',
  SONDE_ERR_REGISTER_TIMEOUT:
    'The agent did not register in time after connecting: no agent.register within 5 s of hub.hello, or the registration not done within 10 s.',
  SONDE_ERR_UNEXPECTED_MESSAGE: 'The agent sent a message type only the hub may send.',
  SONDE_ERR_UNKNOWN_AGENT: 'No enrolled agent has this name or id.',
  SONDE_ERR_AGENT_OFFLINE: 'The agent is not connected.',
  SONDE_ERR_AGENT_DISCONNECTED: 'The agent disconnected before answering.',
  SONDE_ERR_AGENT_BUSY: 'The agent has as many probe requests running and waiting as the hub allows; try again shortly.',
  SONDE_ERR_CANCELLED: 'The caller cancelled the request.',
  SONDE_ERR_HUB_SHUTDOWN: 'The hub is shutting down.',
  SONDE_ERR_HUB_BUSY:
    'The hub is admitting as many agent connections as it registers at once (SONDE_AGENT_ADMISSION_MAX): HTTP 503 before the upgrade; connect again after Retry-After.',
  SONDE_ERR_ADMISSION_SHARE:
    'This agent (its certificate or key) already holds as many connections waiting to register as the hub admits for one caller: HTTP 429 before the upgrade; connect again after Retry-After.',
  SONDE_ERR_INTERNAL: 'The hub failed while handling the message; details are in the hub log.',
} as const;

export type GatewayErrorCode = keyof typeof GatewayErrorCodes;

/** WebSocket close codes the hub uses; the agent decides from them whether reconnecting can help. */
export const CloseCodes = {
  /** Hub shutting down: reconnect with backoff. */
  goingAway: 1001,
  /** Multi-hub: this hub is draining before shutdown; reconnect (to another hub) after the `hub.drain` delay or with backoff. */
  serviceRestart: 1012,
  /** Invalid frames, impersonation, unexpected messages: reconnect with backoff. */
  policy: 1008,
  /** The hub failed while registering the agent: reconnect with backoff. */
  internalError: 1011,
  /** Agent removed or credentials revoked: reconnecting will not help. */
  removed: 4401,
  /** No registration in time. */
  registerTimeout: 4408,
  /** A live connection already holds this identity. */
  duplicate: 4409,
  /** Protocol versions differ: an upgrade is needed. */
  protocolVersion: 4426,
} as const;
