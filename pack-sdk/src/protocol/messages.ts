import { z } from 'zod';
import { SondeErrorCodes, type SondeErrorCode } from '../errors.js';
import { PackManifestSchema } from '../manifest/schema.js';
import { AttestationSchema } from './attestation.js';

const errorCode = z.enum(Object.keys(SondeErrorCodes) as [SondeErrorCode, ...SondeErrorCode[]]);

export const WireErrorSchema = z.object({ code: z.string().max(64), message: z.string().max(2000) }).strict();

export const PackStateSchema = z.enum(['active', 'pending', 'failed', 'disabled', 'quarantined']);

export const PackStatusSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    state: PackStateSchema,
    reason: z.string().max(500).optional(),
    /** Present for active packs: what the hub may expose as tools. */
    manifest: PackManifestSchema.optional(),
    /** Registry refusal code when the pack failed verification. */
    code: z.string().max(64).optional(),
    /** Content identity of the serving (or candidate) version, from its signature. */
    integrity: z.string().max(100).optional(),
    /** A verified version that waits for an operator's approval (first install or an update asking for more). */
    pending: z
      .object({
        version: z.string().max(100),
        permissionsSha256: z.string().regex(/^[0-9a-f]{64}$/),
        /** What it may do that the serving version may not (empty for a first install). */
        added: z.array(z.string().max(500)).max(200),
        /** Everything it asks for, for a first install. */
        permissions: z.unknown().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A connection's challenge: 32 random bytes, base64url without padding. */
export const NonceSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a nonce is 32 bytes in base64url');

/**
 * Hub → agent: the first message on every connection, before anything else. `nonce` is fresh for this connection
 * only; the agent's signed `agent.register` must carry it back (`RegisterSchema.challenge`), so a register frame
 * captured on one connection is refused on any other, even within the replay window and with the agent's key.
 */
export const HelloSchema = z.object({ nonce: NonceSchema, hubVersion: z.string().max(100) }).strict();

/**
 * What binds a registration to one connection: the hub's nonce for it, and the URL the agent dialed (scheme, host
 * and port, as `wss://hub.example:3000`), both under the agent's signature. The hub refuses a nonce that is not the
 * one it sent on this socket, and a URL whose host is not one of its own names.
 */
export const RegisterChallengeSchema = z.object({ nonce: NonceSchema, hubUrl: z.string().min(1).max(300) }).strict();

/** Agent → hub: first message on every connection, after the hub's `hub.hello`. */
export const RegisterSchema = z
  .object({
    /**
     * Required by the hub (it refuses a registration without it, SONDE_ERR_CHALLENGE_MISSING); optional here only
     * so an agent from before the challenge is told clearly what is wrong instead of failing schema validation.
     */
    challenge: RegisterChallengeSchema.optional(),
    name: z.string().min(1).max(64),
    agentVersion: z.string(),
    protocolVersion: z.number().int(),
    attestation: AttestationSchema,
    packs: z.array(PackStatusSchema),
    maxConcurrency: z.number().int().min(1).max(256),
    isolation: z.string().max(200).optional(),
  })
  .strict();

/** Hub → agent: registration accepted. */
export const RegisteredSchema = z
  .object({
    agentId: z.string().uuid(),
    heartbeatIntervalMs: z.number().int().min(1000),
    hubVersion: z.string(),
  })
  .strict();

/** Either side: the peer's message or connection was refused. */
export const RejectSchema = z.object({ code: z.string().max(64), message: z.string().max(2000), refId: z.string().optional() }).strict();

export const HeartbeatSchema = z
  .object({ uptimeS: z.number().nonnegative(), running: z.number().int().nonnegative(), rssBytes: z.number().int().nonnegative() })
  .strict();

/** Hub → agent: run one probe. `probe` is the full name (`system.disk.usage`). */
export const ProbeRequestSchema = z
  .object({
    requestId: z.string().uuid(),
    probe: z.string().max(200),
    params: z.record(z.string(), z.unknown()),
    timeoutMs: z.number().int().min(100).max(120_000),
  })
  .strict();

/** Agent → hub: the scrubbed outcome of one probe request. */
export const ProbeResultSchema = z
  .object({
    requestId: z.string().uuid(),
    status: z.enum(['ok', 'error', 'timeout', 'denied']),
    result: z.unknown().optional(),
    error: WireErrorSchema.extend({ code: errorCode.or(z.string().max(64)) }).optional(),
    durationMs: z.number().nonnegative(),
    truncated: z.boolean().default(false),
  })
  .strict();

/** Agent → hub: pack states changed (install, approval, failure). */
export const PacksUpdateSchema = z.object({ packs: z.array(PackStatusSchema) }).strict();

/** Agent → hub: a security-relevant event the operator must see (refused effect, sandbox violation). */
export const SecurityEventSchema = z
  .object({ kind: z.string().max(64), pack: z.string().optional(), probe: z.string().optional(), detail: z.string().max(2000) })
  .strict();

/**
 * Hub → agent: the hub-signed revocation list (keys and pack versions). The
 * agent checks the signature against the hub keys in its own trust store and
 * refuses an older list, so a hub cannot roll revocations back either.
 */
export const RevocationsPushSchema = z.object({ list: z.record(z.string(), z.unknown()) }).strict();

/**
 * Hub → agent: an admin approved a pack remotely. The agent applies it only if
 * its own verified candidate has exactly this version and permissions digest,
 * so the approval covers what the admin saw and nothing else.
 */
export const PackApproveSchema = z
  .object({
    requestId: z.string().uuid(),
    pack: z.string().max(100),
    version: z.string().max(100),
    permissionsSha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Who approved, for the agent's own record (`hub:<user>`). */
    by: z.string().max(200),
  })
  .strict();

export const PackApproveResultSchema = z
  .object({
    requestId: z.string().uuid(),
    ok: z.boolean(),
    error: z
      .object({ code: z.string().max(64), message: z.string().max(2000) })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Hub → agent: an admin rejected the version a pack holds pending. Pinned like
 * an approval: the agent marks exactly this version and permissions digest
 * rejected, never loads it, reports it (`disabled` with code
 * `SONDE_ERR_PACK_REJECTED` for a first install; the serving version keeps
 * serving for an update) and keeps refusing that digest until another version
 * arrives. Sent only to agents that announced `x-sonde-agent-features: pack-reject`.
 */
export const PackRejectSchema = PackApproveSchema;
export const PackRejectResultSchema = PackApproveResultSchema;

/** Agent → hub: pack operations done on the host (install, update, approve, remove), for the hub's audit chain. */
export const PackEventsSchema = z
  .object({
    events: z
      .array(
        z
          .object({
            seq: z.number().int().nonnegative(),
            time: z.string().max(40),
            action: z.string().max(40),
            pack: z.string().max(300),
            version: z.string().max(100).optional(),
            from: z.string().max(100).optional(),
            outcome: z.string().max(40),
            detail: z.string().max(2000).optional(),
            by: z.string().max(200).optional(),
            hash: z.string().max(64),
          })
          .strip(),
      )
      .max(500),
  })
  .strict();

/**
 * Hub → agent: this hub is shutting down; reconnect after `reconnectInMs` (a random delay the hub chose,
 * so its agents do not all arrive at the other hubs at once), preferably to another hub. Sent only to agents
 * that announced `x-sonde-agent-features: drain` on the upgrade: an older agent would refuse the type.
 */
export const DrainSchema = z.object({ reconnectInMs: z.number().int().min(0).max(600_000), reason: z.string().max(500) }).strict();

/** Every message type and its payload schema; the envelope `type` selects one. */
export const MessageSchemas = {
  'hub.hello': HelloSchema,
  'agent.register': RegisterSchema,
  'hub.registered': RegisteredSchema,
  reject: RejectSchema,
  'agent.heartbeat': HeartbeatSchema,
  'hub.probe.request': ProbeRequestSchema,
  'agent.probe.result': ProbeResultSchema,
  'agent.packs': PacksUpdateSchema,
  'agent.security': SecurityEventSchema,
  'hub.revocations': RevocationsPushSchema,
  'hub.packs.approve': PackApproveSchema,
  'agent.packs.approve.result': PackApproveResultSchema,
  'hub.packs.reject': PackRejectSchema,
  'agent.packs.reject.result': PackRejectResultSchema,
  'agent.pack-events': PackEventsSchema,
  'hub.drain': DrainSchema,
} as const;

export type MessageType = keyof typeof MessageSchemas;
export type MessagePayload<T extends MessageType> = z.infer<(typeof MessageSchemas)[T]>;
export type PackState = z.infer<typeof PackStateSchema>;
export type PackStatus = z.infer<typeof PackStatusSchema>;
export type Register = z.infer<typeof RegisterSchema>;
export type RegisterChallenge = z.infer<typeof RegisterChallengeSchema>;
export type Hello = z.infer<typeof HelloSchema>;
export type Registered = z.infer<typeof RegisteredSchema>;
export type ProbeRequest = z.infer<typeof ProbeRequestSchema>;
export type ProbeResult = z.infer<typeof ProbeResultSchema>;
export type WireError = z.infer<typeof WireErrorSchema>;
