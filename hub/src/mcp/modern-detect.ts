/** The first MCP revision without `initialize` or sessions (SEP-2575, SEP-2567). */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';
/** Where a 2026-07-28 request names its revision in the body (it must match the `MCP-Protocol-Version` header). */
const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';

/**
 * Whether a POST speaks the 2026-07-28 revision (or a later one): its `MCP-Protocol-Version` header names such a
 * revision, or one of its messages carries the per-request `_meta` envelope. Revision ids are ISO dates, so they
 * order as strings. Everything else (2025 revisions, an `initialize`, no header) stays on the 2025 path.
 */
export function isModernRequest(protocolVersion: string | undefined, body: unknown): boolean {
  if (protocolVersion !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(protocolVersion)) return protocolVersion >= MODERN_PROTOCOL_VERSION;
  for (const message of Array.isArray(body) ? body : [body]) {
    const meta = (message as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta;
    if (meta && typeof meta === 'object' && PROTOCOL_VERSION_META in meta) return true;
  }
  return false;
}
