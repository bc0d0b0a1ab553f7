import { existsSync } from 'node:fs';
import { z } from 'zod';
import { WireAlgorithmSchema } from '@sonde/pack-sdk/protocol';
import { AgentError } from '../errors.js';
import { readJsonFile, type HomePaths } from '../home.js';

/** What enrollment leaves behind besides the key files. */
export const IdentitySchema = z
  .object({
    agentId: z.string().uuid(),
    name: z.string(),
    hubUrl: z.string(),
    wsUrl: z.string(),
    enrolledAt: z.string(),
    /** How this agent's frames are signed; absent in identities written before Ed25519 on the wire (= rsa-sha256). */
    wireSignature: WireAlgorithmSchema.optional(),
  })
  .strict();

export type Identity = z.infer<typeof IdentitySchema>;

export function isEnrolled(paths: HomePaths): boolean {
  return existsSync(paths.identity);
}

export function readIdentity(paths: HomePaths): Identity {
  if (!isEnrolled(paths)) throw new AgentError('SONDE_ERR_NOT_ENROLLED');
  const parsed = IdentitySchema.safeParse(readJsonFile(paths.identity));
  if (!parsed.success) throw new AgentError('SONDE_ERR_IDENTITY_BROKEN', `${paths.identity} is malformed.`);
  return parsed.data;
}
