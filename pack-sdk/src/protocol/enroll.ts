import { z } from 'zod';

/**
 * `POST /api/v1/enroll` with `Authorization: Bearer <enrollment token>`.
 * The agent makes its own key pair; only the CSR leaves the host.
 */
export const EnrollRequestSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'agent names are letters, digits, dot, dash and underscore'),
    csrPem: z.string().min(100).max(16_384),
    agentVersion: z.string().max(64),
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
  })
  .strict();

export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;
