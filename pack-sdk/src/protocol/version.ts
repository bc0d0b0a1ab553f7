/**
 * Bump on any change a peer of the previous version would misread. Agent and
 * hub compare it on every envelope and refuse a mismatch with
 * SONDE_ERR_PROTOCOL_VERSION, naming both versions.
 */
export const PROTOCOL_VERSION = 1;

/** Maximum WebSocket payload either side accepts (the security model's 1 MiB). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** How far a timestamp may be from the receiver's clock before it is stale. */
export const REPLAY_WINDOW_MS = 60_000;
