import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { CallContext } from './context.js';
import { ToolError } from './errors.js';
import { META_TOOLS_BY_NAME, runSingleProbe } from './meta-tools.js';
import type { AuditFacts } from './types.js';
import { splitProbeArguments, validatorFor } from './probe-tool-schema.js';
import { byteLengthOf, errorResult, jsonResult } from './results.js';
import { findProbeTool } from './tool-list.js';
import { findIntegrationTool, runIntegrationTool } from './integration-tools.js';

/** The hard ceiling: every tools/call answers within 45 s, whatever hangs below. */
export const HARD_DEADLINE_MS = 44_000;

async function runTool(ctx: CallContext, name: string, args: Record<string, unknown>, facts: AuditFacts): Promise<CallToolResult> {
  const meta = META_TOOLS_BY_NAME.get(name);
  if (meta) {
    const parsed = meta.schema.safeParse(args);
    if (!parsed.success)
      throw new ToolError(
        'SONDE_ERR_INVALID_ARGUMENTS',
        `invalid arguments for ${name}: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`,
      );
    return meta.run(ctx, parsed.data, facts);
  }
  const entry = findProbeTool(ctx, name);
  if (!entry) {
    const integration = findIntegrationTool(ctx, name);
    if (integration) return runIntegrationTool(ctx, integration, args, facts);
  }
  if (!entry) throw new ToolError('SONDE_ERR_UNKNOWN_TOOL', `unknown tool ${name}; list_capabilities shows every probe and its tool`);
  const { agent, params } = splitProbeArguments(args, entry.nestedParams);
  facts.probe = entry.fullName;
  if (typeof agent !== 'string' || agent.length === 0)
    throw new ToolError('SONDE_ERR_INVALID_ARGUMENTS', `${name} needs \`agent\`, the agent name`);
  const { envelope } = await runSingleProbe(ctx, facts, agent, entry.fullName, params);
  const schema = entry.tool.outputSchema;
  if (!schema) return jsonResult(envelope);
  // structuredContent must validate against the declared schema; a cut result may not, so it then carries no data (the text has it).
  if (validatorFor(schema)(envelope)) return jsonResult(envelope, envelope);
  const { data: _omitted, ...withoutData } = envelope;
  return jsonResult(envelope, { ...withoutData, more: envelope.more ?? 'data does not match the result schema; see the text content' });
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ToolError('SONDE_ERR_TIMEOUT', `no answer within ${Math.round(ms / 1000)} s`, 'timeout')), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * One tools/call: policy and dispatch inside the tool, then exactly one audit
 * record, committed before the result is returned. If the audit log cannot
 * record the call, the result is withheld.
 */
export async function callTool(
  ctx: CallContext,
  name: string,
  args: Record<string, unknown>,
  hardDeadlineMs = HARD_DEADLINE_MS,
): Promise<CallToolResult> {
  const started = Date.now();
  const facts: AuditFacts = { agents: [], probe: null, status: 'ok' };
  let result: CallToolResult;
  try {
    result = await withDeadline(runTool(ctx, name, args, facts), hardDeadlineMs);
  } catch (error) {
    let toolError: ToolError;
    if (error instanceof ToolError) toolError = error;
    else {
      ctx.log?.error({ err: error, tool: name }, 'mcp tool failed');
      toolError = new ToolError('SONDE_ERR_INTERNAL', `${name} failed inside the hub; the hub log has details`);
    }
    facts.status = toolError.status;
    result = errorResult(toolError);
  }
  try {
    await ctx.services.audit.append({
      action: 'mcp.tool_call',
      actor: { kind: ctx.principal.kind, id: ctx.principal.id, name: ctx.principal.name },
      clientId: ctx.clientId ?? null,
      tool: name,
      agents: facts.agents,
      probe: facts.probe,
      params: args,
      status: facts.status,
      resultBytes: byteLengthOf(result),
      durationMs: Date.now() - started,
    });
  } catch (error) {
    ctx.log?.error({ err: error, tool: name }, 'audit append failed; result withheld');
    return errorResult(
      new ToolError('SONDE_ERR_AUDIT_FAILED', 'the call could not be recorded in the audit log, so its result is withheld; try again'),
    );
  }
  return result;
}
