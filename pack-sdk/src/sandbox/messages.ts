import { z } from 'zod';
import { PackManifestSchema, ProbeManifestSchema } from '../manifest/schema.js';

/**
 * Frames between the agent (parent) and a pack process (child). The parent
 * validates every frame it receives: the child runs pack code and is not
 * trusted. The child imports only the types (erased at build time), so it
 * needs no zod of its own.
 */

const ErrorSchema = z.object({ code: z.string().max(64), message: z.string().max(4000) }).strict();

export const EffectOpSchema = z.enum(['exec', 'readFile', 'listDir', 'http']);
export type EffectOp = z.infer<typeof EffectOpSchema>;

/**
 * What a pack process says of its pack in `ready`: its manifest without the probes' JSON Schemas. The parent uses the
 * name and the permissions (checked against the approval) and, when it was given no approved manifest, the probes'
 * capability and limits; the schemas a client sees come from the signed sonde-pack.json. Leaving them out means the
 * pack process never makes them (definePack makes them when first read), a cut of its start (issue 26).
 */
export const ReadyManifestSchema = PackManifestSchema.extend({
  probes: z.array(ProbeManifestSchema.omit({ params: true, result: true })).min(1),
});
export type ReadyManifest = z.infer<typeof ReadyManifestSchema>;

export const ChildMessageSchema = z.discriminatedUnion('t', [
  /** The pack loaded; its own view of its manifest (checked against the approval by the parent). */
  z.object({ t: z.literal('ready'), manifest: z.unknown() }).strict(),
  z.object({ t: z.literal('load-failed'), error: ErrorSchema }).strict(),
  /** A brokered effect a probe handler asked for through its ProbeContext. */
  z
    .object({
      t: z.literal('effect'),
      id: z.number().int().nonnegative(),
      run: z.number().int().nonnegative(),
      op: EffectOpSchema,
      args: z.array(z.unknown()).max(4),
    })
    .strict(),
  z
    .object({
      t: z.literal('result'),
      id: z.number().int().nonnegative(),
      ok: z.boolean(),
      result: z.unknown().optional(),
      error: ErrorSchema.optional(),
      /** The pack process says Node's permission model refused something (unverified: the child reports it). */
      accessDenied: z.string().max(500).optional(),
      durationMs: z.number().nonnegative(),
    })
    .strict(),
]);
export type ChildMessage = z.infer<typeof ChildMessageSchema>;

export type ParentMessage =
  | {
      t: 'run';
      id: number;
      probe: string;
      params: unknown;
      timeoutMs: number | undefined;
      credentials: Record<string, string>;
      endpoint: string | undefined;
    }
  | { t: 'effect-result'; id: number; ok: true; value: unknown }
  | { t: 'effect-result'; id: number; ok: false; error: { code: string; message: string } };

/** Arguments of each brokered effect, checked before the host context sees them. */
export const EffectArgsSchemas = {
  exec: z.tuple([
    z.string().max(4096),
    z.array(z.string().max(65_536)).max(256),
    z
      .object({
        okExitCodes: z.array(z.number().int()).max(64).optional(),
        timeoutMs: z.number().positive().optional(),
        maxOutputBytes: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
  ]),
  readFile: z.tuple([
    z.string().max(4096),
    z.object({ maxBytes: z.number().int().positive().optional(), tail: z.boolean().optional() }).strict().optional(),
  ]),
  listDir: z.tuple([z.string().max(4096)]),
  http: z.tuple([
    z.string().max(8192),
    z
      .object({
        method: z.enum(['GET', 'HEAD', 'POST']).optional(),
        headers: z.record(z.string(), z.string()).optional(),
        body: z
          .string()
          .max(1024 * 1024)
          .optional(),
        timeoutMs: z.number().positive().optional(),
        maxBytes: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
  ]),
} as const;
