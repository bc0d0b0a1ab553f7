import type { PackManifest, ProbeManifest, RunbookManifest } from '@sonde/pack-sdk';
import { isNewerVersion } from '@sonde/registry';
import type { AgentView, Fleet } from '../services.js';
import { buildProbeTool, type ToolDefinition } from './probe-tool-schema.js';
import { validPackReport } from '../fleet/report-bounds.js';
import { probeToolName, toolNameBudget } from './tool-names.js';

/** One approved probe as the hub exposes it: a tool name, schemas, and the agents serving it. */
export interface ProbeEntry {
  fullName: string;
  pack: string;
  manifest: ProbeManifest;
  toolName: string;
  tool: ToolDefinition;
  /** Params sit under `params` instead of beside `agent` (see probe-tool-schema). */
  nestedParams: boolean;
  /** Names of agents on which the pack is active. */
  agents: string[];
}

export interface PackEntry {
  name: string;
  version: string;
  description: string;
  runbooks: RunbookManifest[];
  probes: ProbeEntry[];
  agents: string[];
}

export interface Catalog {
  /** Changes exactly when the set of active pack versions in the fleet changes. */
  fingerprint: string;
  probes: ReadonlyMap<string, ProbeEntry>;
  byTool: ReadonlyMap<string, ProbeEntry>;
  packs: ReadonlyMap<string, PackEntry>;
}

/** Active packs of one agent: only these are approved to run there. */
export function activePacks(agent: AgentView): Array<{ name: string; version: string; manifest: PackManifest }> {
  const out: Array<{ name: string; version: string; manifest: PackManifest }> = [];
  for (const pack of agent.packs) {
    if (pack.state === 'active' && pack.manifest && validPackReport(pack))
      out.push({ name: pack.name, version: pack.version, manifest: pack.manifest });
  }
  return out;
}

/** Whether `probe` (full name) is served by an active pack on `agent`. */
export function agentServes(agent: AgentView, probe: string): ProbeManifest | undefined {
  for (const pack of activePacks(agent)) {
    if (!probe.startsWith(`${pack.name}.`)) continue;
    const local = probe.slice(pack.name.length + 1);
    const found = pack.manifest.probes.find((p) => p.name === local);
    if (found) return found;
  }
  return undefined;
}

function fingerprintOf(agents: AgentView[]): string {
  const parts: string[] = [];
  for (const agent of agents) {
    for (const pack of activePacks(agent)) parts.push(`${agent.name}\u0000${pack.name}@${pack.version}`);
  }
  return parts.sort().join('\u0001');
}

function build(agents: AgentView[], serverName: string, fingerprint: string): Catalog {
  // Agents may run different versions of a pack; the newest manifest describes the tool.
  const newest = new Map<string, { version: string; manifest: PackManifest; agents: string[] }>();
  for (const agent of agents) {
    for (const pack of activePacks(agent)) {
      const seen = newest.get(pack.name);
      if (!seen) newest.set(pack.name, { version: pack.version, manifest: pack.manifest, agents: [agent.name] });
      else {
        seen.agents.push(agent.name);
        if (isNewerVersion(pack.version, seen.version)) {
          seen.version = pack.version;
          seen.manifest = pack.manifest;
        }
      }
    }
  }
  const budget = toolNameBudget(serverName);
  const taken = new Set<string>(META_TOOL_NAMES);
  const probes = new Map<string, ProbeEntry>();
  const byTool = new Map<string, ProbeEntry>();
  const packs = new Map<string, PackEntry>();
  for (const packName of [...newest.keys()].sort()) {
    const pack = newest.get(packName)!;
    const entries: ProbeEntry[] = [];
    for (const probe of pack.manifest.probes) {
      if (probe.capability !== 'observe') continue;
      const fullName = `${packName}.${probe.name}`;
      const toolName = probeToolName(fullName, budget, taken);
      taken.add(toolName);
      const built = buildProbeTool(toolName, fullName, probe);
      const entry: ProbeEntry = {
        fullName,
        pack: packName,
        manifest: probe,
        toolName,
        tool: built.tool,
        nestedParams: built.nestedParams,
        agents: [...pack.agents].sort(),
      };
      probes.set(fullName, entry);
      byTool.set(toolName, entry);
      entries.push(entry);
    }
    packs.set(packName, {
      name: packName,
      version: pack.version,
      description: pack.manifest.description,
      runbooks: pack.manifest.runbooks,
      probes: entries,
      agents: [...pack.agents].sort(),
    });
  }
  return { fingerprint, probes, byTool, packs };
}

/** Names the meta tools reserve, so no probe tool can shadow one. */
export const META_TOOL_NAMES = [
  'health_check',
  'list_capabilities',
  'list_agents',
  'agent_overview',
  'probe',
  'diagnose',
  'query_logs',
] as const;

/** Which agents a caller may reach (its key policy); the catalog it sees is built from these agents only. */
export interface CatalogScope {
  /** Stable text for the policy (cache key). */
  key: string;
  reaches(agentName: string): boolean;
}

const EVERY_AGENT: CatalogScope = { key: '*', reaches: () => true };
/** Distinct scopes remembered per fleet version: policies are few. */
const MAX_SCOPES = 256;

/**
 * What a client sees is built only from the agents its key may reach (issue
 * 19): an agent's report describes tools only to callers who can call that
 * agent anyway, so one compromised agent cannot rewrite the tool names,
 * descriptions or schemas that another agent's callers see. Catalogs are
 * rebuilt only when the fleet's active packs change, and shared between
 * callers whose reachable agents report the same packs (turning manifests into
 * tool schemas is the expensive part of answering tools/list).
 */
export class CatalogCache {
  private byFingerprint = new Map<string, Catalog>();
  /** The previous fleet version's catalogs: most survive a change elsewhere in the fleet. */
  private previous = new Map<string, Catalog>();
  private byScope = new Map<string, Catalog>();
  private currentVersion: number | undefined;

  constructor(
    private readonly fleet: Fleet,
    private readonly serverName: string,
  ) {}

  get(scope: CatalogScope = EVERY_AGENT): Catalog {
    // A fleet that keeps a version answers "nothing changed" without listing every agent.
    const version = this.fleet.version?.();
    if (version === undefined || version !== this.currentVersion) {
      this.byScope = new Map();
      this.previous = this.byFingerprint;
      this.byFingerprint = new Map();
      this.currentVersion = version;
    }
    const known = version === undefined ? undefined : this.byScope.get(scope.key);
    if (known) return known;
    const agents = this.fleet.list().filter((agent) => scope.reaches(agent.name));
    const fingerprint = fingerprintOf(agents);
    let catalog = this.byFingerprint.get(fingerprint) ?? this.previous.get(fingerprint);
    if (!catalog || !this.byFingerprint.has(fingerprint)) {
      catalog ??= build(agents, this.serverName, fingerprint);
      if (this.byFingerprint.size >= MAX_SCOPES) this.byFingerprint.clear();
      this.byFingerprint.set(fingerprint, catalog);
    }
    if (this.byScope.size >= MAX_SCOPES) this.byScope.clear();
    if (version === undefined) return catalog;
    this.byScope.set(scope.key, catalog);
    return catalog;
  }
}
