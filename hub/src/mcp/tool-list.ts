import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog, ProbeEntry } from './catalog.js';
import { perProbeToolsOnMain, visibleProbeEntries } from './visibility.js';
import type { CallContext } from './context.js';
import { META_INPUT_SCHEMAS, META_TOOLS } from './meta-tools.js';
import { capDescription } from './probe-tool-schema.js';
import { integrationToolsFor } from './integration-tools.js';

const metaCache = new WeakMap<Catalog, Tool[]>();

function metaTools(catalog: Catalog): Tool[] {
  const cached = metaCache.get(catalog);
  if (cached) return [...cached];
  const openWorld = [...catalog.probes.values()].some((entry) => entry.manifest.openWorld);
  const built: Tool[] = META_TOOLS.map((tool) => ({
    name: tool.name,
    description: capDescription(tool.description),
    inputSchema: META_INPUT_SCHEMAS.get(tool.name) as Tool['inputSchema'],
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: tool.dispatches && openWorld },
  }));
  metaCache.set(catalog, built);
  return [...built];
}

/** The tools/list answer for this caller and endpoint. */
export function listTools(ctx: CallContext): Tool[] {
  const tools = metaTools(ctx.catalog);
  const visible = visibleProbeEntries(ctx);
  if (ctx.endpoint.kind === 'pack') {
    const pack = ctx.endpoint.pack;
    for (const entry of visible) if (entry.pack === pack) tools.push(entry.tool);
  } else if (perProbeToolsOnMain(ctx)) {
    for (const entry of visible) tools.push(entry.tool);
  }
  tools.push(...integrationToolsFor(ctx, tools.length));
  return tools;
}

/**
 * The probe tool a call names. `/mcp` accepts every probe tool even when the
 * list moved them to pack endpoints, so a client that listed tools before the
 * fleet grew keeps working; a pack endpoint accepts only its own pack's tools.
 */
export function findProbeTool(ctx: CallContext, name: string): ProbeEntry | undefined {
  const entry = ctx.catalog.byTool.get(name);
  if (!entry) return undefined;
  if (ctx.endpoint.kind === 'pack' && entry.pack !== ctx.endpoint.pack) return undefined;
  return entry;
}
