import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ProbeManifest, RunbookManifest } from '@sonde/pack-sdk';
import type { AgentView, DispatchResult } from '../services.js';
import { describeCuts, fitJson } from './budget.js';
import { activePacks, agentServes } from './catalog.js';
import type { CallContext } from './context.js';
import {
  CALL_DEADLINE_MS,
  checkProbeAllowed,
  dispatchAll,
  dispatchWithin,
  isOffline,
  mapLimit,
  requireOnline,
  requireProbe,
  resolveAgent,
} from './dispatch.js';
import { ToolError } from './errors.js';
import { explicitFreeForm, UNTRUSTED_NOTE } from './probe-tool-schema.js';
import { dispatchError, jsonResult, pagingParamsOf, probeEnvelope } from './results.js';
import { selectAgents, visibleAgents } from './select-agents.js';
import { perProbeToolsOnMain } from './visibility.js';
import { integrationCapabilities } from './integration-tools.js';
import type { AuditFacts } from './types.js';

export interface MetaTool {
  name: string;
  description: string;
  schema: z.ZodType<Record<string, unknown>>;
  /** Whether the tool can reach beyond the fleet (only through open-world probes). */
  dispatches: boolean;
  run(ctx: CallContext, args: Record<string, unknown>, facts: AuditFacts): Promise<CallToolResult>;
}

/**
 * Probe requests a fan-out (health_check, diagnose) keeps in flight across the
 * fleet. Each costs the hub one signature and then only waiting for the
 * agent, so the fan-out is bound by round trips, not hub CPU: at 16, 1,000
 * agents took 1.4-1.8 s (hub idle ~40 % of the time); at 128, 0.7-0.8 s. An
 * agent still queues what exceeds its own maxConcurrency.
 */
const FANOUT_CONCURRENCY = 128;
const DEFAULT_FANOUT_DEADLINE_MS = 20_000;
const MAX_DEFAULT_CHECKS_PER_AGENT = 8;
const DEFAULT_LOG_LINES = 200;

const agentName = z.string().min(1).max(200).describe('Agent name (list_agents shows them).');
const agentPatterns = z
  .array(z.string().min(1).max(200))
  .max(500)
  .optional()
  .describe('Agent names or globs such as web-*; default: every agent this key may use.');
const probeParams = z
  .record(z.string(), z.unknown())
  .optional()
  .describe('Probe parameters (list_capabilities and agent_overview show each probe).');

function firstSentence(text: string, max = 140): string {
  const end = text.search(/[.!?](\s|$)/);
  const sentence = end > 0 ? text.slice(0, end + 1) : text;
  return sentence.length > max ? `${sentence.slice(0, max - 1)}…` : sentence;
}

function toolNameFor(ctx: CallContext, probe: string): string | undefined {
  return ctx.catalog.probes.get(probe)?.toolName;
}

function probeAllowed(ctx: CallContext, agent: string, probe: string): boolean {
  return ctx.services.pdp.checkProbe(ctx.principal, agent, probe).allowed;
}

function summarizeAgent(agent: AgentView): Record<string, unknown> {
  const failed = agent.packs.filter((p) => p.state !== 'active').map((p) => ({ pack: p.name, state: p.state, reason: p.reason }));
  return {
    name: agent.name,
    status: agent.status,
    connected: agent.connected,
    lastSeenAt: agent.lastSeenAt,
    os: agent.os,
    agentVersion: agent.agentVersion,
    packs: activePacks(agent).map((p) => `${p.name}@${p.version}`),
    ...(failed.length ? { inactivePacks: failed } : {}),
    ...(agent.reasons.length ? { reasons: agent.reasons } : {}),
  };
}

interface StepOutcome {
  probe: string;
  params: Record<string, unknown>;
  status: DispatchResult['status'];
  durationMs: number;
  error?: { code: string; message: string };
  truncated?: boolean;
  data?: unknown;
}

function stepOutcome(result: DispatchResult, params: Record<string, unknown>, budget: number): StepOutcome {
  const outcome: StepOutcome = { probe: result.probe, params, status: result.status, durationMs: Math.round(result.durationMs) };
  if (result.error) outcome.error = result.error;
  if (result.status === 'ok') {
    const fitted = fitJson(result.result ?? null, budget);
    outcome.data = fitted.value;
    if (fitted.truncated || result.truncated) outcome.truncated = true;
  }
  return outcome;
}

function deadlineArg(ctx: CallContext, value: number | undefined): number {
  return Math.min(ctx.callDeadlineMs, value ?? DEFAULT_FANOUT_DEADLINE_MS);
}

/** The steps health_check runs on an agent: its runbooks, else its parameterless status-like probes. */
function healthSteps(agent: AgentView, packs: string[] | undefined): Array<{ probe: string; params: Record<string, unknown> }> {
  const steps = new Map<string, { probe: string; params: Record<string, unknown> }>();
  const chosen = activePacks(agent).filter((p) => !packs?.length || packs.includes(p.name));
  for (const pack of chosen) {
    for (const runbook of pack.manifest.runbooks) {
      for (const step of runbook.steps) {
        const probe = `${pack.name}.${step.probe}`;
        steps.set(`${probe}\u0000${JSON.stringify(step.params)}`, { probe, params: step.params });
      }
    }
  }
  if (steps.size > 0) return [...steps.values()];
  const fallback: Array<{ probe: string; params: Record<string, unknown> }> = [];
  for (const pack of chosen) {
    const parameterless = pack.manifest.probes.filter(
      (p) => p.capability === 'observe' && !((p.params.required as unknown[] | undefined)?.length ?? 0),
    );
    const preferred = parameterless.filter((p) => /(^|\.)(health|status|overview|summary|ping|info|usage)/.test(p.name));
    for (const probe of (preferred.length ? preferred : parameterless).slice(0, 2))
      fallback.push({ probe: `${pack.name}.${probe.name}`, params: {} });
  }
  return fallback.slice(0, MAX_DEFAULT_CHECKS_PER_AGENT);
}

function aggregateStatus(statuses: string[]): 'ok' | 'partial' | 'error' | 'timeout' | 'offline' | 'denied' {
  if (statuses.length === 0) return 'ok';
  if (statuses.every((s) => s === 'ok')) return 'ok';
  if (statuses.some((s) => s === 'ok')) return 'partial';
  if (statuses.every((s) => s === 'timeout')) return 'timeout';
  if (statuses.every((s) => s === 'offline')) return 'offline';
  if (statuses.every((s) => s === 'denied')) return 'denied';
  return 'error';
}

const healthCheck: MetaTool = {
  name: 'health_check',
  description:
    "Checks the health of many agents at once and returns a status per agent: runs each agent's pack runbooks (or a few basic status probes). Answers by the deadline with partial results; offline agents are reported, not waited for. Filter with `agents` (names or globs) and `packs`.",
  schema: z
    .object({
      agents: agentPatterns,
      packs: z.array(z.string().min(1).max(64)).max(100).optional().describe('Only these packs, e.g. ["system"].'),
      deadlineMs: z.number().int().min(500).max(CALL_DEADLINE_MS).optional().describe('Stop waiting after this many ms (default 20000).'),
    })
    .strict(),
  dispatches: true,
  async run(ctx, raw, facts) {
    const args = raw as { agents?: string[]; packs?: string[]; deadlineMs?: number };
    const selection = selectAgents(ctx, args.agents);
    facts.agents = [...selection.agents.map((a) => a.name), ...selection.denied];
    const deadlineAt = Date.now() + deadlineArg(ctx, args.deadlineMs);
    type Job = { agent: AgentView; probe: string; params: Record<string, unknown>; manifest: ProbeManifest };
    const jobs: Job[] = [];
    const perAgent = new Map<string, { status?: string; lastSeenAt?: string | null; checks: StepOutcome[]; message?: string }>();
    for (const agent of selection.agents) {
      const entry: { status?: string; lastSeenAt?: string | null; checks: StepOutcome[]; message?: string } = { checks: [] };
      perAgent.set(agent.name, entry);
      if (isOffline(agent)) {
        entry.status = 'offline';
        entry.lastSeenAt = agent.lastSeenAt;
        entry.message = `agent ${agent.name} is offline, last seen ${agent.lastSeenAt ?? 'never'}`;
        continue;
      }
      for (const step of healthSteps(agent, args.packs)) {
        const manifest = agentServes(agent, step.probe);
        if (!manifest) continue;
        if (!probeAllowed(ctx, agent.name, step.probe)) {
          entry.checks.push({ probe: step.probe, params: step.params, status: 'denied', durationMs: 0 });
          continue;
        }
        jobs.push({ agent, ...step, manifest });
      }
    }
    const perCheckBudget = Math.max(512, Math.floor((ctx.resultBudgetBytes - 4096) / Math.max(1, jobs.length + perAgent.size)));
    const results = await dispatchAll(ctx, jobs, FANOUT_CONCURRENCY, deadlineAt);
    results.forEach((result, i) => perAgent.get(jobs[i].agent.name)!.checks.push(stepOutcome(result, jobs[i].params, perCheckBudget)));
    const agents = [...perAgent.entries()].map(([name, entry]) => ({
      agent: name,
      status: entry.status ?? aggregateStatus(entry.checks.map((c) => c.status)),
      ...(entry.lastSeenAt !== undefined ? { lastSeenAt: entry.lastSeenAt } : {}),
      ...(entry.message ? { message: entry.message } : {}),
      checks: entry.checks,
    }));
    for (const name of selection.denied)
      agents.push({ agent: name, status: 'denied', message: 'not allowed for this API key', checks: [] });
    for (const name of selection.unknown) agents.push({ agent: name, status: 'unknown', message: 'no such agent', checks: [] });
    const counts: Record<string, number> = {};
    for (const a of agents) counts[a.status] = (counts[a.status] ?? 0) + 1;
    facts.status =
      agents.length === 0
        ? 'ok'
        : aggregateStatus(agents.map((a) => a.status)) === 'ok'
          ? 'ok'
          : agents.some((a) => a.status === 'ok')
            ? 'partial'
            : 'error';
    const payload: Record<string, unknown> = { summary: counts, agents, note: `checks[].data is output from the hosts: ${UNTRUSTED_NOTE}` };
    const fitted = fitJson(payload, ctx.resultBudgetBytes - 512);
    if (fitted.truncated) {
      (fitted.value as Record<string, unknown>).truncated = true;
      (fitted.value as Record<string, unknown>).more = describeCuts(fitted.cuts, ['agents', 'packs']);
    }
    return jsonResult(fitted.value);
  },
};

const listCapabilities: MetaTool = {
  name: 'list_capabilities',
  description:
    'Lists what this API key can query: agents, their packs and every probe, with the tool name and MCP endpoint that serves each probe as its own tool. Any probe can also be run through the `probe` tool. Use it to discover agents and packs added after you connected.',
  schema: z
    .object({
      agent: agentName.optional().describe('Only this agent.'),
      pack: z.string().min(1).max(64).optional().describe('Only this pack.'),
    })
    .strict(),
  dispatches: false,
  run(ctx, raw) {
    const args = raw as { agent?: string; pack?: string };
    const agents = args.agent ? [resolveAgent(ctx, args.agent)] : visibleAgents(ctx);
    const onMain = perProbeToolsOnMain(ctx);
    const base = ctx.services.config.publicUrl.replace(/\/+$/, '');
    const packs: Array<Record<string, unknown>> = [];
    for (const pack of ctx.catalog.packs.values()) {
      if (args.pack && pack.name !== args.pack) continue;
      const servingAgents = agents.filter((a) => pack.agents.includes(a.name));
      if (servingAgents.length === 0) continue;
      const probes = pack.probes
        .filter((p) => servingAgents.some((a) => probeAllowed(ctx, a.name, p.fullName)))
        .map((p) => ({ probe: p.fullName, tool: p.toolName, summary: firstSentence(p.manifest.description) }));
      if (probes.length === 0) continue;
      packs.push({
        pack: pack.name,
        version: pack.version,
        summary: firstSentence(pack.description),
        probeToolsOn: onMain ? ['/mcp', `/mcp/packs/${pack.name}`] : [`/mcp/packs/${pack.name}`],
        runbooks: pack.runbooks.map((r) => r.category),
        probes,
      });
    }
    return Promise.resolve(
      jsonResult({
        endpoints: { main: `${base}/mcp`, pack: `${base}/mcp/packs/<pack>` },
        probeToolsOnMain: onMain,
        maxTools: ctx.services.config.mcpMaxTools,
        packs,
        ...(args.agent ? {} : { integrations: integrationCapabilities(ctx, args.pack) }),
        agents: agents.map((a) => ({
          name: a.name,
          status: a.status,
          packs: activePacks(a)
            .filter((p) => !args.pack || p.name === args.pack)
            .map((p) => p.name),
        })),
      }),
    );
  },
};

const listAgents: MetaTool = {
  name: 'list_agents',
  description:
    'Lists the agents (monitored hosts) this API key can query, with status (online, offline, degraded and why), last contact, OS, agent version and active packs. Filter with `agents` (names or globs) and `status`.',
  schema: z
    .object({
      agents: agentPatterns,
      status: z.enum(['online', 'offline', 'degraded']).optional().describe('Only agents in this state.'),
    })
    .strict(),
  dispatches: false,
  run(ctx, raw, facts) {
    const args = raw as { agents?: string[]; status?: AgentView['status'] };
    const selection = selectAgents(ctx, args.agents);
    const agents = selection.agents.filter((a) => !args.status || a.status === args.status);
    facts.agents = agents.map((a) => a.name);
    return Promise.resolve(
      jsonResult({
        count: agents.length,
        agents: agents.map(summarizeAgent),
        ...(selection.denied.length ? { denied: selection.denied } : {}),
        ...(selection.unknown.length ? { unknown: selection.unknown } : {}),
      }),
    );
  },
};

const agentOverview: MetaTool = {
  name: 'agent_overview',
  description:
    'Describes one agent: status and why, last contact, OS, versions, and each pack with its probes (and their tool names) and diagnose categories. Use it before probe or diagnose to see what an agent can answer. Runs nothing on the host.',
  schema: z.object({ agent: agentName }).strict(),
  dispatches: false,
  run(ctx, raw, facts) {
    const args = raw as { agent: string };
    const agent = resolveAgent(ctx, args.agent);
    facts.agents = [agent.name];
    const packs = activePacks(agent).map((pack) => {
      const probes = pack.manifest.probes
        .map((p) => ({ full: `${pack.name}.${p.name}`, p }))
        .filter(({ full }) => probeAllowed(ctx, agent.name, full))
        .map(({ full, p }) => ({
          probe: full,
          tool: toolNameFor(ctx, full),
          summary: firstSentence(p.description),
          params: Object.keys(p.params.properties ?? {}),
        }));
      return {
        pack: pack.name,
        version: pack.version,
        probes,
        runbooks: pack.manifest.runbooks.map((r: RunbookManifest) => ({ category: r.category, summary: firstSentence(r.description) })),
      };
    });
    return Promise.resolve(jsonResult({ ...summarizeAgent(agent), enrolledAt: agent.enrolledAt, isolation: agent.isolation, packs }));
  },
};

/** Runs one probe the caller may run on an online agent and returns the wrapped host output. */
export async function runSingleProbe(
  ctx: CallContext,
  facts: AuditFacts,
  agentArg: string,
  probe: string,
  params: Record<string, unknown>,
  keep: 'head' | 'tail' = 'head',
): Promise<{ envelope: ReturnType<typeof probeEnvelope>; manifest: ProbeManifest }> {
  facts.probe = probe;
  facts.agents = [agentArg];
  const agent = resolveAgent(ctx, agentArg);
  facts.agents = [agent.name];
  checkProbeAllowed(ctx, agent, probe);
  const manifest = requireProbe(agent, probe);
  requireOnline(agent);
  const result = await dispatchWithin(ctx, agent, probe, manifest, params, Date.now() + ctx.callDeadlineMs);
  if (result.status !== 'ok') throw dispatchError(result);
  return { envelope: probeEnvelope(result, ctx.resultBudgetBytes, pagingParamsOf(manifest), keep), manifest };
}

const probeTool: MetaTool = {
  name: 'probe',
  description:
    'Runs one read-only probe on one agent and returns its output as data from the host. Name the agent, the full probe name (e.g. system.disk.usage) and its params; list_capabilities or agent_overview show what exists.',
  schema: z
    .object({
      agent: agentName,
      probe: z.string().min(1).max(200).describe('Full probe name, <pack>.<probe>.'),
      params: probeParams,
    })
    .strict(),
  dispatches: true,
  async run(ctx, raw, facts) {
    const args = raw as { agent: string; probe: string; params?: Record<string, unknown> };
    const { envelope } = await runSingleProbe(ctx, facts, args.agent, args.probe, args.params ?? {});
    return jsonResult(envelope);
  },
};

function genericFinding(step: StepOutcome): { severity: 'ok' | 'warning' | 'critical'; summary: string; probe: string } {
  if (step.status === 'ok') return { severity: 'ok', summary: `${step.probe} answered`, probe: step.probe };
  const reason = step.error?.message ?? step.status;
  const severity = step.status === 'timeout' || step.status === 'denied' ? 'warning' : 'critical';
  return { severity, summary: `${step.probe}: ${step.status}: ${reason}`.slice(0, 300), probe: step.probe };
}

const diagnose: MetaTool = {
  name: 'diagnose',
  description:
    "Runs a diagnostic runbook (a category such as health) of one agent's packs: every step probe, with a finding per step and each step's output. agent_overview lists the categories each agent offers.",
  schema: z
    .object({
      agent: agentName,
      category: z.string().min(1).max(32).describe('Runbook category, e.g. health.'),
      pack: z.string().min(1).max(64).optional().describe("Only this pack's runbook when several packs share the category."),
    })
    .strict(),
  dispatches: true,
  async run(ctx, raw, facts) {
    const args = raw as { agent: string; category: string; pack?: string };
    const agent = resolveAgent(ctx, args.agent);
    facts.agents = [agent.name];
    const runbooks = activePacks(agent)
      .filter((p) => !args.pack || p.name === args.pack)
      .flatMap((p) => p.manifest.runbooks.filter((r) => r.category === args.category).map((r) => ({ pack: p.name, runbook: r })));
    if (runbooks.length === 0) {
      const offered = [...new Set(activePacks(agent).flatMap((p) => p.manifest.runbooks.map((r) => r.category)))];
      throw new ToolError(
        'SONDE_ERR_INVALID_ARGUMENTS',
        `agent ${agent.name} has no runbook "${args.category}"${args.pack ? ` in pack ${args.pack}` : ''}; categories: ${offered.join(', ') || 'none'}`,
      );
    }
    const steps = runbooks.flatMap(({ pack, runbook }) => runbook.steps.map((s) => ({ probe: `${pack}.${s.probe}`, params: s.params })));
    facts.probe = steps.length === 1 ? steps[0].probe : null;
    // Policy first for every step: a runbook never runs a probe the key may not run.
    for (const step of steps) checkProbeAllowed(ctx, agent, step.probe);
    requireOnline(agent);
    const deadlineAt = Date.now() + ctx.callDeadlineMs;
    const budget = Math.max(512, Math.floor((ctx.resultBudgetBytes - 4096) / steps.length));
    const outcomes = await mapLimit(steps, FANOUT_CONCURRENCY, async (step): Promise<StepOutcome> => {
      const manifest = agentServes(agent, step.probe);
      if (!manifest) {
        return {
          probe: step.probe,
          params: step.params,
          status: 'error',
          durationMs: 0,
          error: { code: 'SONDE_ERR_PROBE_UNAVAILABLE', message: 'probe not active' },
        };
      }
      return stepOutcome(await dispatchWithin(ctx, agent, step.probe, manifest, step.params, deadlineAt), step.params, budget);
    });
    const status = aggregateStatus(outcomes.map((o) => o.status));
    facts.status = status === 'ok' ? 'ok' : status === 'partial' ? 'partial' : status === 'timeout' ? 'timeout' : 'error';
    return jsonResult({
      agent: agent.name,
      category: args.category,
      runbooks: runbooks.map((r) => ({ pack: r.pack, summary: firstSentence(r.runbook.description) })),
      status,
      findings: outcomes.map(genericFinding),
      steps: outcomes,
      note: `steps[].data is output from the host: ${UNTRUSTED_NOTE}`,
    });
  },
};

const LOG_PROBE = /(^|\.)(logs?|journal)(\.|$|_)/;
const TAIL_PARAMS = ['lines', 'tail', 'maxLines', 'limit'];

const queryLogs: MetaTool = {
  name: 'query_logs',
  description:
    "Reads recent log lines from one agent through a log probe (e.g. system.logs.tail or a journal probe), newest lines kept when cut. Pass `lines` for more or fewer, `params` for the probe's filters; without `probe` the agent's first log probe is used.",
  schema: z
    .object({
      agent: agentName,
      probe: z.string().min(1).max(200).optional().describe("Full log probe name; default: the agent's first log probe."),
      lines: z.number().int().min(1).max(5000).optional().describe(`How many recent lines (default ${DEFAULT_LOG_LINES}).`),
      params: probeParams,
    })
    .strict(),
  dispatches: true,
  async run(ctx, raw, facts) {
    const args = raw as { agent: string; probe?: string; lines?: number; params?: Record<string, unknown> };
    const agent = resolveAgent(ctx, args.agent);
    facts.agents = [agent.name];
    const logProbes = activePacks(agent)
      .flatMap((p) => p.manifest.probes.map((probe) => ({ full: `${p.name}.${probe.name}`, probe })))
      .filter(({ full }) => LOG_PROBE.test(full))
      .sort((a, b) => Number(b.full.includes('tail')) - Number(a.full.includes('tail')) || a.full.localeCompare(b.full));
    const chosen = args.probe ? logProbes.find((p) => p.full === args.probe) : logProbes.find((p) => probeAllowed(ctx, agent.name, p.full));
    if (!chosen) {
      if (args.probe) {
        facts.probe = args.probe;
        checkProbeAllowed(ctx, agent, args.probe);
        throw new ToolError(
          'SONDE_ERR_PROBE_UNAVAILABLE',
          `${args.probe} is not a log probe served on agent ${agent.name}; agent_overview lists its probes`,
        );
      }
      if (logProbes.length > 0) checkProbeAllowed(ctx, agent, logProbes[0].full);
      throw new ToolError('SONDE_ERR_PROBE_UNAVAILABLE', `agent ${agent.name} serves no log probe; agent_overview lists its probes`);
    }
    const params: Record<string, unknown> = { ...(args.params ?? {}) };
    const properties = (chosen.probe.params.properties ?? {}) as Record<string, unknown>;
    const tailParam = TAIL_PARAMS.find((name) => name in properties);
    if (tailParam && params[tailParam] === undefined) params[tailParam] = args.lines ?? DEFAULT_LOG_LINES;
    const { envelope } = await runSingleProbe(ctx, facts, agent.name, chosen.full, params, 'tail');
    return jsonResult(envelope);
  },
};

export const META_TOOLS: readonly MetaTool[] = [healthCheck, listCapabilities, listAgents, agentOverview, probeTool, diagnose, queryLogs];

export const META_TOOLS_BY_NAME: ReadonlyMap<string, MetaTool> = new Map(META_TOOLS.map((tool) => [tool.name, tool]));

/** JSON Schemas for the meta tools, converted from zod once at start-up. */
export const META_INPUT_SCHEMAS: ReadonlyMap<string, Record<string, unknown>> = new Map(
  META_TOOLS.map((tool) => {
    const schema = z.toJSONSchema(tool.schema, { io: 'input' }) as Record<string, unknown>;
    delete schema.$schema;
    return [tool.name, explicitFreeForm(schema) as Record<string, unknown>];
  }),
);
