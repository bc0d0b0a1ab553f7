import { anchor, cell, code, fenced, frontMatter, generatedNote, table } from './markdown.js';
import { typeText } from './pack-reference.js';

interface Operation {
  summary: string;
  tags: string[];
  operationId: string;
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  security: Record<string, unknown>[];
  responses: Record<string, { description: string; content?: { 'application/json': { schema: Schema } } }>;
}
interface Schema {
  type?: string;
  properties?: Record<string, Schema & { description?: string; nullable?: boolean }>;
  required?: string[];
}
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Who may call an operation, from its OpenAPI security requirement. */
function authText(security: Record<string, unknown>[]): string {
  const names = security.flatMap((s) => Object.keys(s));
  if (names.includes('bearerAuth')) return 'admin: an admin API key (`Authorization: Bearer sonde_…`) or an admin session cookie';
  if (names.includes('enrollmentToken')) return 'a single-use enrollment token (`Authorization: Bearer …`)';
  return 'none';
}

function bodyTable(schema: Schema): string {
  const props = Object.entries(schema.properties ?? {});
  if (props.length === 0) return '';
  const required = new Set(schema.required ?? []);
  return table(
    ['Field', 'Type', 'Required', 'Description'],
    props.map(([name, s]) => [code(name), cell(typeText(s as never)), required.has(name) ? 'yes' : 'no', cell(s.description ?? '')]),
  );
}

export function renderRestReference(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  const byTag = new Map<string, { method: string; path: string; op: Operation }[]>();
  for (const [p, ops] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = ops[method];
      if (!op) continue;
      const tag = op.tags[0] ?? 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push({ method, path: p, op });
    }
  }
  const count = [...byTag.values()].reduce((n, ops) => n + ops.length, 0);
  const lines = [
    frontMatter('REST API', 'Every route of the hub’s REST API with its parameters, request body and response schema.'),
    generatedNote('the hub’s OpenAPI document (GET /api/v1/openapi.json)'),
    '# REST API',
    '',
    `The hub serves ${count} operations under \`/api/v1\`. This page is generated from the OpenAPI 3.0 document the hub itself`,
    'serves at `GET /api/v1/openapi.json` (no authentication): routes are declared once with zod schemas, and the same declaration',
    'validates requests and writes the document. [Download the document](/openapi.json) to generate a client or import it',
    'into an API tool.',
    '',
    '## Conventions {#conventions}',
    '',
    '- **Authentication.** Admin routes take an admin API key as `Authorization: Bearer sonde_…`, or the session cookie',
    '  `sonde_session` from `POST /api/v1/auth/login`. A member key is refused with `403 SONDE_ERR_FORBIDDEN` (members use MCP).',
    '  `POST /api/v1/probes` applies the key’s own policy as well, exactly as an MCP call does.',
    '- **Cookies and CSRF.** A cookie-authenticated request that changes state must carry the header `x-sonde-csrf` (any value;',
    '  the dashboard sends it) and no `Origin` of another host, else it is refused (`403 SONDE_ERR_CSRF`). Bearer requests need neither.',
    '- **Errors** always have the shape `{ "error": { "code": "SONDE_ERR_…", "message": "…" } }`; the codes and their HTTP',
    '  statuses are listed in [hub error codes](/reference/errors/hub).',
    '- **Bodies** are JSON, at most 256 KiB. Unknown fields are refused where the schema is strict.',
    '',
    '## Operations {#operations}',
    '',
  ];
  for (const [tag, ops] of byTag) {
    lines.push(
      `- **${tag}**: ${ops.map(({ method, path: p, op }) => `[${method.toUpperCase()} ${p}](#${anchor(op.operationId)})`).join(', ')}`,
    );
  }
  lines.push('');
  for (const [tag, ops] of byTag) {
    lines.push(`## ${tag} {#tag-${anchor(tag)}}`, '');
    for (const { method, path: p, op } of ops) {
      lines.push(`### ${method.toUpperCase()} ${p} {#${anchor(op.operationId)}}`, '');
      lines.push(cell(op.summary), '');
      lines.push(`Authentication: ${authText(op.security)}.`, '');
      if (op.parameters?.length) {
        lines.push(
          table(
            ['Parameter', 'In', 'Type', 'Required', 'Description'],
            op.parameters.map((q) => [
              code(q.name),
              q.in,
              cell(typeText(q.schema as never)),
              q.required ? 'yes' : 'no',
              cell(String((q.schema as { description?: string }).description ?? '')),
            ]),
          ),
          '',
        );
      }
      const body = op.requestBody?.content['application/json'].schema;
      if (body) {
        lines.push('**Request body**', '');
        const t = bodyTable(body);
        if (t) lines.push(t, '');
      }
      const [status, response] = Object.entries(op.responses).find(([s]) => s !== 'default') ?? ['200', { description: '' }];
      const resSchema = response.content?.['application/json'].schema;
      lines.push(`**Response** \`${status}\`${resSchema ? '' : ' with no body'}`, '');
      if (resSchema) {
        const t = bodyTable(resSchema);
        if (t) lines.push(t, '');
      }
      if (body || resSchema) {
        lines.push(
          '::: details JSON Schemas',
          fenced('json', JSON.stringify({ ...(body ? { request: body } : {}), ...(resSchema ? { response: resSchema } : {}) }, null, 2)),
          ':::',
          '',
        );
      }
    }
  }
  return lines.join('\n');
}
