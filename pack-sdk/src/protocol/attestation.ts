import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const AttestationSchema = z
  .object({
    os: z.object({ platform: z.string(), release: z.string(), version: z.string(), distro: z.string().optional() }).strict(),
    kernel: z.string(),
    arch: z.string(),
    nodeVersion: z.string(),
    agentVersion: z.string(),
    /** SHA-256 over the agent's whole installed package tree (sorted paths + file digests). */
    agentCodeSha256: sha256,
    /** SHA-256 of the config with secrets stripped. */
    configSha256: sha256,
    packs: z.array(z.object({ name: z.string(), version: z.string(), sha256 }).strict()),
  })
  .strict();

export type Attestation = z.infer<typeof AttestationSchema>;
