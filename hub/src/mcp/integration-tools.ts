import type { ProbeManifest } from '@sonde/pack-sdk';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { describeCuts, fitJson } from './budget.js';
import { META_TOOL_NAMES } from './catalog.js';
import type { CallContext } from './context.js';
import { ToolError, type FailureStatus } from './errors.js';
import { UNTRUSTED_NOTE, capDescription, explicitFreeForm, validatorFor } from './probe-tool-schema.js';
import { jsonResult, pagingParamsOf } from './results.js';
import { probeToolName, toolNameBudget } from './tool-names.js';
import type { AuditFacts, IntegrationToolSource } from './types.js';
import { perProbeToolsOnMain, visibleProbeEntries } from './visibility.js';

/**
 * Integration probes (packs the hub itself runs against product APIs, see
 * hub/src/integrations) as MCP tools. One tool per probe, with a required
 * `instance` argument naming the configured instance (two Proxmox clusters
 * share `proxmox_vms_list`): the tool list stays the size of the pack and
 * within the clients' tool budget however many instances exist, and a new
 * instance needs no tools/list refresh (clients ignore list_changed).
 * Policy: the instance name is the target, checked like an agent name
 * (`allowedAgents`), and `<pack>.<probe>` like any probe (`allowedProbes`).
 * Kept apart from the agent catalog: these hooks are called from tool-list,
 * call-tool and plugin only.
 */

export interface IntegrationToolEntry {
  fullName: string;
  pack: string;
  probe: string;
  manifest: ProbeManifest;
  instances: string[];
  tool: Tool;
  nestedParams: boolean;
}

interface IntegrationCatalog {
  fingerprint: string;
  byTool: Map<string, IntegrationToolEntry>;
  entries: IntegrationToolEntry[];
}

const INSTANCE_PROPERTY = 'instance';
const FLATTENABLE = new Set(['type', 'properties', 'required', 'additionalProperties', 'description', 'title']);
let cached: IntegrationCatalog | undefined;

function inputSchemaFor(probe: ProbeManifest, instances: string[]): { schema: Record<string, unknown>; nested: boolean } {
  const params = probe.params;
  const properties = (params.properties ?? {}) as Record<string, unknown>;
  const instance = {
    type: 'string',
    description: `Integration instance name (configured on the hub${instances.length ? `: ${instances.slice(0, 10).join(', ')}` : ''}).`,
  };
  const flattenable =
    params.type === 'object' && Object.keys(params).every((k) => FLATTENABLE.has(k)) && !(INSTANCE_PROPERTY in properties);
  const schema = flattenable
    ? {
        type: 'object',
        properties: { [INSTANCE_PROPERTY]: instance, ...properties },
        required: [INSTANCE_PROPERTY, ...((params.required as string[] | undefined) ?? [])],
        additionalProperties: params.additionalProperties ?? false,
      }
    : { type: 'object', properties: { [INSTANCE_PROPERTY]: instance, params }, required: [INSTANCE_PROPERTY], additionalProperties: false };
  return { schema: explicitFreeForm(schema) as Record<string, unknown>, nested: !flattenable };
}

function build(ctx: CallContext, source: IntegrationToolSource): IntegrationCatalog {
  const packs = source.packs();
  const agentTools = [...ctx.catalog.byTool.keys()];
  const fingerprint = JSON.stringify([ctx.catalog.fingerprint, packs.map((p) => [p.name, p.version, p.instances])]);
  if (cached?.fingerprint === fingerprint) return cached;
  const budget = toolNameBudget(ctx.services.config.serverName);
  const taken = new Set<string>([...META_TOOL_NAMES, ...agentTools]);
  const byTool = new Map<string, IntegrationToolEntry>();
  const entries: IntegrationToolEntry[] = [];
  for (const pack of [...packs].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const probe of pack.manifest.probes) {
      if (probe.capability !== 'observe') continue;
      const fullName = `${pack.name}.${probe.name}`;
      const toolName = probeToolName(fullName, budget, taken);
      taken.add(toolName);
      const input = inputSchemaFor(probe, pack.instances);
      const tool: Tool = {
        name: toolName,
        title: fullName,
        description: capDescription(
          `${probe.description.trim()} Runs integration probe ${fullName} from the hub against the instance named by \`instance\`; read-only.`,
        ),
        inputSchema: input.schema as Tool['inputSchema'],
        annotations: { title: fullName, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      };
      const entry: IntegrationToolEntry = {
        fullName,
        pack: pack.name,
        probe: probe.name,
        manifest: probe,
        instances: [...pack.instances].sort(),
        tool,
        nestedParams: input.nested,
      };
      byTool.set(toolName, entry);
      entries.push(entry);
    }
  }
  cached = { fingerprint, byTool, entries };
  return cached;
}

function sourceOf(ctx: CallContext): IntegrationToolSource | undefined {
  return ctx.integrations;
}

/** Tools this key may call on at least one instance. */
function visibleEntries(ctx: CallContext, source: IntegrationToolSource): IntegrationToolEntry[] {
  const { pdp } = ctx.services;
  return build(ctx, source).entries.filter((entry) =>
    entry.instances.some(
      (instance) => pdp.checkAgent(ctx.principal, instance).allowed && pdp.checkProbe(ctx.principal, instance, entry.fullName).allowed,
    ),
  );
}

/**
 * Integration tools to add to a tools/list answer that already holds `listed`:
 * on `/mcp/packs/<pack>` that pack's tools; on `/mcp` all of them while the
 * whole list stays within the client tool budget (SONDE_MCP_MAX_TOOLS).
 */
export function integrationToolsFor(ctx: CallContext, listed: number): Tool[] {
  const source = sourceOf(ctx);
  if (!source) return [];
  const visible = visibleEntries(ctx, source);
  if (ctx.endpoint.kind === 'pack') {
    const pack = ctx.endpoint.pack;
    return visible.filter((entry) => entry.pack === pack).map((entry) => entry.tool);
  }
  if (listed + visible.length > ctx.services.config.mcpMaxTools) return [];
  return visible.map((entry) => entry.tool);
}

/** Whether `/mcp/packs/<pack>` names an integration pack that is serving. */
export function servesIntegrationPack(source: IntegrationToolSource | undefined, pack: string): boolean {
  return !!source?.packs().some((p) => p.name === pack);
}

export function findIntegrationTool(ctx: CallContext, name: string): IntegrationToolEntry | undefined {
  const source = sourceOf(ctx);
  if (!source) return undefined;
  const entry = build(ctx, source).byTool.get(name);
  if (!entry) return undefined;
  if (ctx.endpoint.kind === 'pack' && entry.pack !== ctx.endpoint.pack) return undefined;
  return entry;
}

function statusOf(code: string): FailureStatus {
  if (code === 'SONDE_ERR_TIMEOUT') return 'timeout';
  if (code === 'SONDE_ERR_PERMISSION_DENIED' || code === 'SONDE_ERR_CAPABILITY_REFUSED') return 'denied';
  return 'error';
}

/** One integration tool call: arguments, policy, instance, then the run in the instance's sandbox. */
export async function runIntegrationTool(
  ctx: CallContext,
  entry: IntegrationToolEntry,
  args: Record<string, unknown>,
  facts: AuditFacts,
): Promise<CallToolResult> {
  const source = sourceOf(ctx)!;
  const { [INSTANCE_PROPERTY]: instance, ...rest } = args;
  const params =
    entry.nestedParams && rest.params && typeof rest.params === 'object' && !Array.isArray(rest.params)
      ? (rest.params as Record<string, unknown>)
      : entry.nestedParams
        ? {}
        : rest;
  facts.probe = entry.fullName;
  if (typeof instance !== 'string' || instance.length === 0)
    throw new ToolError('SONDE_ERR_INVALID_ARGUMENTS', `${entry.tool.name} needs \`instance\`, the integration instance name`);
  facts.agents = [instance];
  const { pdp } = ctx.services;
  const target = pdp.checkAgent(ctx.principal, instance);
  if (!target.allowed)
    throw new ToolError('SONDE_ERR_POLICY_DENIED', `instance ${instance} is not allowed for this API key: ${target.reason}`, 'denied');
  const probeDecision = pdp.checkProbe(ctx.principal, instance, entry.fullName);
  if (!probeDecision.allowed)
    throw new ToolError(
      'SONDE_ERR_POLICY_DENIED',
      `probe ${entry.fullName} on instance ${instance} is not allowed for this API key: ${probeDecision.reason}`,
      'denied',
    );
  const pack = source.instancePack(instance);
  if (pack !== entry.pack)
    throw new ToolError(
      'SONDE_ERR_UNKNOWN_INSTANCE',
      pack
        ? `instance ${instance} belongs to pack ${pack}, not ${entry.pack}`
        : `unknown integration instance ${instance}; instances of ${entry.pack}: ${entry.instances.join(', ') || 'none'}`,
    );
  if (!validatorFor(entry.manifest.params)(params))
    throw new ToolError('SONDE_ERR_INVALID_ARGUMENTS', `the arguments do not match the params of ${entry.fullName}`);
  let outcome: { result: unknown; durationMs: number };
  try {
    outcome = await source.run(instance, entry.probe, params, Math.min(entry.manifest.timeoutMs, ctx.callDeadlineMs));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    const known = typeof code === 'string' && code.startsWith('SONDE_ERR_') ? code : 'SONDE_ERR_PROBE_FAILED';
    throw new ToolError(known, `instance ${instance}, probe ${entry.fullName}: ${message}`, statusOf(known));
  }
  const envelope: Record<string, unknown> = {
    instance,
    probe: entry.fullName,
    status: 'ok',
    durationMs: Math.round(outcome.durationMs),
    truncated: false,
    note: UNTRUSTED_NOTE,
  };
  const room = Math.max(1024, ctx.resultBudgetBytes - Buffer.byteLength(JSON.stringify(envelope)) - 512);
  const fitted = fitJson(outcome.result ?? null, room);
  envelope.data = fitted.value;
  if (fitted.truncated) {
    envelope.truncated = true;
    envelope.more = describeCuts(fitted.cuts, pagingParamsOf(entry.manifest));
  }
  return jsonResult(envelope);
}

/** The integration part of list_capabilities: packs, the instances this key may use, and each probe's tool. */
export function integrationCapabilities(ctx: CallContext, pack: string | undefined): Array<Record<string, unknown>> {
  const source = sourceOf(ctx);
  if (!source) return [];
  const visible = visibleEntries(ctx, source);
  const agentTools = perProbeToolsOnMain(ctx) ? visibleProbeEntries(ctx).length : 0;
  const onMain = META_TOOL_NAMES.length + agentTools + visible.length <= ctx.services.config.mcpMaxTools;
  const { pdp } = ctx.services;
  const out: Array<Record<string, unknown>> = [];
  for (const served of source.packs()) {
    if (pack && served.name !== pack) continue;
    const entries = visible.filter((entry) => entry.pack === served.name);
    if (entries.length === 0) continue;
    out.push({
      pack: served.name,
      version: served.version,
      kind: 'integration',
      summary: served.manifest.description,
      instances: served.instances.filter((instance) => pdp.checkAgent(ctx.principal, instance).allowed),
      probeToolsOn: onMain ? ['/mcp', `/mcp/packs/${served.name}`] : [`/mcp/packs/${served.name}`],
      probes: entries.map((entry) => ({
        probe: entry.fullName,
        tool: entry.tool.name,
        summary: entry.manifest.description.split(/(?<=[.!?])\s/)[0],
      })),
    });
  }
  return out;
}
