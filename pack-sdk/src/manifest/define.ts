import { z } from 'zod';
import { SondeError } from '../errors.js';
import type { ProbeContext } from '../runtime/context.js';
import { PermissionsSchema, type PermissionsInput } from './permissions.js';
import {
  PackManifestSchema,
  type Capability,
  type Detect,
  type Finding,
  type PackKind,
  type PackManifest,
  type RunbookStep,
} from './schema.js';

export interface ProbeDefinition<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  /** Name within the pack, e.g. `disk.usage` (the full name is `system.disk.usage`). */
  name: string;
  /** What it returns and when to use it, key point first. */
  description: string;
  params: P;
  result: R;
  timeoutMs?: number;
  maxOutputBytes?: number;
  capability?: Capability;
  openWorld?: boolean;
  handler: (params: z.infer<P>, ctx: ProbeContext) => Promise<z.input<R>>;
}

export interface RunbookDefinition {
  category: string;
  description: string;
  steps: Array<{ probe: string; params?: Record<string, unknown> }>;
  /**
   * Turns step results into findings. `results` is keyed by probe name; a step
   * that failed is present as `{ error }` so rules can say why.
   */
  evaluate: (results: Record<string, unknown>) => Finding[];
}

/**
 * The version in a manifest built from code that names none. Nothing trusts a
 * code-built version: the signed sonde-pack.json (from package.json) is the
 * pack's version everywhere a version is shown or compared.
 */
export const UNVERSIONED = '0.0.0';

export interface PackDefinition {
  name: string;
  /**
   * Deprecated: leave it out. The version of a pack is its package.json's
   * (`sonde-pack manifest` writes it into sonde-pack.json, and hosts report the
   * installed package's version). Kept so existing packs still compile; a value
   * that disagrees with package.json only earns a `sonde-pack validate` warning.
   */
  version?: string;
  description: string;
  kind?: PackKind;
  detect?: Partial<Detect>;
  permissions: PermissionsInput;
  probes: ProbeDefinition[];
  runbooks?: RunbookDefinition[];
}

export interface Pack {
  readonly manifest: PackManifest;
  readonly probes: ReadonlyMap<string, ProbeDefinition>;
  readonly runbooks: readonly RunbookDefinition[];
}

/** Identity at run time; keeps the handler's params and result typed from the zod schemas. */
export function defineProbe<P extends z.ZodType, R extends z.ZodType>(probe: ProbeDefinition<P, R>): ProbeDefinition {
  return probe;
}

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output', where: string): Record<string, unknown> {
  try {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'throw' }) as Record<string, unknown>;
    delete json.$schema;
    return json;
  } catch (error) {
    throw new SondeError('SONDE_ERR_INVALID_MANIFEST', `${where}: schema cannot be expressed as JSON Schema (${String(error)})`);
  }
}

/**
 * Gives `entry[key]` the value `compute()` returns, computed when first read (or never, when nothing reads it) and
 * kept: an enumerable accessor in the key's place that turns itself into the plain data property it stands for, so
 * JSON.stringify, spreads, Object.keys, structuredClone and deep equality see what an eager value would give.
 */
function memoisedProperty(entry: object, key: string, compute: () => unknown): void {
  const settle = (value: unknown): void => {
    Object.defineProperty(entry, key, { value, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(entry, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = compute();
      settle(value);
      return value;
    },
    set: settle,
  });
}

/**
 * Validates a pack definition and derives its manifest. Everything a host needs
 * to decide whether to load a pack (permissions, probes, schemas) comes from
 * the manifest built here, so it cannot drift from the code.
 */
export function definePack(definition: PackDefinition): Pack {
  const probes = new Map<string, ProbeDefinition>();
  for (const probe of definition.probes) {
    if (probes.has(probe.name)) {
      throw new SondeError('SONDE_ERR_INVALID_MANIFEST', `pack ${definition.name}: probe ${probe.name} is defined twice`);
    }
    probes.set(probe.name, probe);
  }
  const permissions = PermissionsSchema.safeParse(definition.permissions);
  if (!permissions.success) {
    throw new SondeError('SONDE_ERR_INVALID_MANIFEST', `pack ${definition.name}: permissions: ${z.prettifyError(permissions.error)}`);
  }
  const candidate = {
    name: definition.name,
    version: definition.version ?? UNVERSIONED,
    description: definition.description,
    kind: definition.kind ?? 'system',
    detect: { commands: [], files: [], services: [], ...definition.detect },
    permissions: permissions.data,
    probes: definition.probes.map((probe) => ({
      name: probe.name,
      description: probe.description,
      capability: probe.capability ?? 'observe',
      timeoutMs: probe.timeoutMs,
      maxOutputBytes: probe.maxOutputBytes,
      openWorld: probe.openWorld ?? false,
      // Stand-ins for the parse below: each JSON Schema is made from its zod schema when first read (see the loop after it).
      params: {},
      result: {},
    })),
    runbooks: (definition.runbooks ?? []).map((runbook) => ({
      category: runbook.category,
      description: runbook.description,
      steps: runbook.steps.map((step): RunbookStep => ({ probe: step.probe, params: step.params ?? {} })),
    })),
  };
  const parsed = PackManifestSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new SondeError('SONDE_ERR_INVALID_MANIFEST', `pack ${definition.name}: ${z.prettifyError(parsed.error)}`);
  }
  for (const runbook of parsed.data.runbooks) {
    for (const step of runbook.steps) {
      if (!probes.has(step.probe)) {
        throw new SondeError(
          'SONDE_ERR_INVALID_MANIFEST',
          `pack ${definition.name}: runbook ${runbook.category} uses unknown probe ${step.probe}`,
        );
      }
    }
  }
  // A probe's JSON Schemas are for whoever lists the pack's tools (`sonde-pack manifest` writing sonde-pack.json, the
  // testing helpers); a pack process never sends them (its `ready` names the pack, its permissions and its probes'
  // limits), and making them was most of definePack's time there (issue 26: pack process start). So they are made when
  // first read, once, with the same values, and a schema that JSON Schema cannot express throws then, from the read.
  parsed.data.probes.forEach((entry, index) => {
    const probe = definition.probes[index];
    memoisedProperty(entry, 'params', () => toJsonSchema(probe.params, 'input', `${definition.name}.${probe.name} params`));
    memoisedProperty(entry, 'result', () => toJsonSchema(probe.result, 'output', `${definition.name}.${probe.name} result`));
  });
  return { manifest: parsed.data, probes, runbooks: definition.runbooks ?? [] };
}

/** Full, globally unique probe name as seen by the hub and MCP clients. */
export function fullProbeName(pack: string, probe: string): string {
  return `${pack}.${probe}`;
}

/** Splits `system.disk.usage` into pack `system` and probe `disk.usage`. */
export function splitProbeName(full: string): { pack: string; probe: string } | undefined {
  const dot = full.indexOf('.');
  if (dot <= 0 || dot === full.length - 1) return undefined;
  return { pack: full.slice(0, dot), probe: full.slice(dot + 1) };
}
