import type { Tool } from '@modelcontextprotocol/sdk/types.js';

const SERVER_NAME = 'sonde';

/** The rules real clients enforce (issue 11): names, lengths, annotations, descriptions. */
export function checkTool(tool: Tool): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9_]{1,48}$/.test(tool.name)) problems.push(`name ${tool.name} breaks ^[a-z0-9_]{1,48}$`);
  if (SERVER_NAME.length + tool.name.length > 60) problems.push(`server + tool name over 60 characters`);
  const description = tool.description ?? '';
  if (description.length === 0) problems.push('no description');
  if (Buffer.byteLength(description) >= 1024) problems.push(`description ${Buffer.byteLength(description)} bytes`);
  if (tool.annotations?.readOnlyHint !== true) problems.push('readOnlyHint is not true');
  if (tool.annotations?.destructiveHint !== false) problems.push('destructiveHint is not false');
  if (typeof tool.annotations?.openWorldHint !== 'boolean') problems.push('openWorldHint not set');
  if (tool.inputSchema.type !== 'object') problems.push('inputSchema is not an object schema');
  if (tool.outputSchema && tool.outputSchema.type !== 'object') problems.push('outputSchema is not an object schema');
  // The MCP Inspector's portability check flags `{}` schemas (they constrain nothing).
  if (/"additionalProperties":\{\}/.test(JSON.stringify(tool))) problems.push('additionalProperties: {} (spell it true)');
  // No list of targets: descriptions never name agents.
  for (const name of ['web-1', 'db-1', 'old-1']) if (description.includes(name)) problems.push(`description names agent ${name}`);
  return problems;
}
