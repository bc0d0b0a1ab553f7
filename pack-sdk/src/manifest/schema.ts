import { z } from 'zod';
import { PermissionsSchema } from './permissions.js';

export const PACK_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** Probe names are dotted lowercase segments; the full name is `<pack>.<probe>`. */
export const PROBE_NAME_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*){0,4}$/;
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Only `observe` probes may load. The other levels exist so that a pack asking
 * for more is refused with a clear reason instead of failing to parse.
 */
export const CapabilitySchema = z.enum(['observe', 'mutate', 'execute']);

export const JsonSchemaSchema = z.record(z.string(), z.unknown());

export const ProbeManifestSchema = z
  .object({
    name: z.string().regex(PROBE_NAME_PATTERN, 'probe names are lowercase dotted segments such as disk.usage'),
    description: z.string().min(1).max(1000),
    capability: CapabilitySchema.default('observe'),
    timeoutMs: z.number().int().min(100).max(120_000).default(DEFAULT_PROBE_TIMEOUT_MS),
    maxOutputBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(DEFAULT_MAX_OUTPUT_BYTES),
    openWorld: z.boolean().default(false).describe('True when the probe reaches beyond the host (network, remote APIs).'),
    params: JsonSchemaSchema.describe('JSON Schema of the parameters, generated from the zod schema.'),
    result: JsonSchemaSchema.describe('JSON Schema of the result, generated from the zod schema.'),
  })
  .strict();

export const RunbookStepSchema = z
  .object({
    probe: z.string().regex(PROBE_NAME_PATTERN),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const RunbookManifestSchema = z
  .object({
    category: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/),
    description: z.string().min(1).max(500),
    steps: z.array(RunbookStepSchema).min(1),
  })
  .strict();

export const DetectSchema = z
  .object({
    commands: z.array(z.string()).default([]),
    files: z.array(z.string().startsWith('/')).default([]),
    services: z.array(z.string()).default([]),
  })
  .strict();

export const PackKindSchema = z.enum(['system', 'integration']);

export const PackManifestSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(PACK_NAME_PATTERN, 'pack names are lowercase letters, digits and dashes'),
    version: z.string().regex(SEMVER, 'version must be semver'),
    description: z.string().min(1).max(500),
    kind: PackKindSchema.default('system'),
    detect: DetectSchema.default({ commands: [], files: [], services: [] }),
    permissions: PermissionsSchema,
    probes: z.array(ProbeManifestSchema).min(1),
    runbooks: z.array(RunbookManifestSchema).default([]),
  })
  .strict();

export const FindingSchema = z
  .object({
    severity: z.enum(['ok', 'warning', 'critical']),
    summary: z.string().max(300),
    probe: z.string().optional(),
  })
  .strict();

export type Capability = z.infer<typeof CapabilitySchema>;
export type ProbeManifest = z.infer<typeof ProbeManifestSchema>;
export type RunbookManifest = z.infer<typeof RunbookManifestSchema>;
export type RunbookStep = z.infer<typeof RunbookStepSchema>;
export type PackManifest = z.infer<typeof PackManifestSchema>;
export type PackKind = z.infer<typeof PackKindSchema>;
export type Detect = z.infer<typeof DetectSchema>;
export type Finding = z.infer<typeof FindingSchema>;

/** JSON Schema for `sonde-pack.json`, derived from the zod schema above. */
export function packManifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PackManifestSchema, { io: 'input' });
}
