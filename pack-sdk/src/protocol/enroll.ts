import { z } from 'zod';
import { WireGrantSchema, WireKeyOfferSchema } from './wire.js';

/**
 * `POST /api/v1/enroll` with `Authorization: Bearer <enrollment token>`.
 * The agent makes its own key pair; only the CSR leaves the host.
 */
export const EnrollRequestSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'agent names are letters, digits, dot, dash and underscore'),
    csrPem: z.string().min(100).max(16_384),
    agentVersion: z.string().max(64),
    /** The agent's Ed25519 wire key with a proof over the CSR; absent from agents older than Ed25519 on the wire. */
    wireKey: WireKeyOfferSchema.optional(),
  })
  .strict();

export const EnrollResponseSchema = z
  .object({
    agentId: z.string().uuid(),
    name: z.string(),
    certPem: z.string(),
    caPem: z.string(),
    /** Scoped agent API key (`agent:<name>`): shown once, only its hash is kept by the hub. */
    apiKey: z.string(),
    /** WebSocket URL the agent should connect to. */
    wsUrl: z.string(),
    /** The hub's revocation-signing key (Ed25519): the agent trusts revocation lists signed by it. */
    revocationKey: z
      .object({ keyId: z.string().regex(/^[0-9a-f]{16}$/), publicKey: z.string().max(100) })
      .strict()
      .optional(),
    /**
     * Present when the hub certified the agent's Ed25519 wire key (the deployment signs with Ed25519): the
     * hub's own Ed25519 key, certified by the CA. Absent: both sides sign with RSA-SHA256.
     */
    wire: WireGrantSchema.optional(),
  })
  .strict();

export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

/**
 * `POST /api/v1/agents/renew` over mTLS with the current client certificate: a new CSR (a new RSA key) and,
 * from agents that sign with Ed25519, a new wire key offer. Allowed in the certificate's last 30 days, or at
 * any time when it moves the agent to the hub's wire signature (an agent enrolled with RSA moving to Ed25519).
 */
export const RenewRequestSchema = z.object({ csrPem: EnrollRequestSchema.shape.csrPem, wireKey: WireKeyOfferSchema.optional() }).strict();

export const RenewResponseSchema = z
  .object({
    agentId: z.string().uuid(),
    certPem: z.string(),
    caPem: z.string(),
    notAfter: z.string(),
    wire: WireGrantSchema.optional(),
  })
  .strict();

export type RenewRequest = z.infer<typeof RenewRequestSchema>;
export type RenewResponse = z.infer<typeof RenewResponseSchema>;
