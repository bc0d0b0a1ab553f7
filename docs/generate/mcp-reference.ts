import type { McpTool } from './hub-documents.js';
import { anchor, cell, code, fenced, frontMatter, generatedNote, table } from './markdown.js';
import { typeText } from './pack-reference.js';

interface Schema {
  properties?: Record<string, { description?: string; default?: unknown } & Record<string, unknown>>;
  required?: string[];
}

export function renderMcpToolsReference(tools: McpTool[]): string {
  const lines = [
    frontMatter('MCP tools', 'The tools every Sonde hub serves to AI clients, and how probe tools are named.'),
    generatedNote('`tools/list` on a freshly started hub'),
    '# MCP tools',
    '',
    `Every hub serves these ${tools.length} tools on \`/mcp\`, whatever runs in the fleet. They are generated from a \`tools/list\``,
    `call to a real hub started for the docs build. ${readOnlyText(tools)}`,
    '',
    'Each probe of each pack that is active on a connected agent is also a tool of its own, named `<pack>_<probe>` with dots and',
    'dashes turned into underscores (`system.disk.usage` → `system_disk_usage`). Names longer than the clients accept are cut and',
    'given a short hash, stable across restarts. A probe tool takes a required `agent` (the agent’s name) next to the probe’s',
    'own parameters, which are listed on the [pack pages](/reference/packs/). Integration probes (packs that run on the hub) take',
    'a required `instance` instead. A key sees only the probe tools its policy allows on at least one agent.',
    '',
    'When all tools together would exceed `SONDE_MCP_MAX_TOOLS` (default 40), `/mcp` lists only the tools below and each pack',
    'keeps its full list at `/mcp/packs/<pack>`; the `probe` tool reaches every probe from `/mcp` in any case.',
    '',
    table(
      ['Tool', 'What it does'],
      tools.map((t) => [`[${code(t.name)}](#${anchor(t.name)})`, cell(firstSentence(t.description ?? ''))]),
    ),
    '',
  ];
  for (const t of tools) {
    lines.push(`## ${t.name} {#${anchor(t.name)}}`, '');
    lines.push(cell(t.description ?? ''), '');
    const schema = t.inputSchema as Schema;
    const props = Object.entries(schema.properties ?? {});
    const required = new Set(schema.required ?? []);
    if (props.length) {
      lines.push(
        table(
          ['Argument', 'Type', 'Required', 'Description'],
          props.map(([name, s]) => [code(name), cell(typeText(s as never)), required.has(name) ? 'yes' : 'no', cell(s.description ?? '')]),
        ),
        '',
      );
    } else lines.push('No arguments.', '');
    lines.push('::: details Input JSON Schema', fenced('json', JSON.stringify(t.inputSchema, null, 2)), ':::', '');
  }
  return lines.join('\n');
}

/** What the tools' annotations say, so the sentence is true of the list it sits above. */
function readOnlyText(tools: McpTool[]): string {
  const writable = tools.filter((t) => t.annotations?.readOnlyHint !== true || t.annotations.destructiveHint !== false);
  if (writable.length === 0) return 'Every one is annotated read-only (`readOnlyHint: true`, `destructiveHint: false`).';
  return `Not annotated read-only: ${writable.map((t) => code(t.name)).join(', ')}.`;
}

function firstSentence(text: string): string {
  const m = /^(.+?[.!?])(\s|$)/.exec(text);
  return m ? m[1] : text;
}
