import { z } from 'zod';
import { ENV_DESCRIPTIONS } from './env-descriptions.js';
import { anchor, code, escapeForVitePress, frontMatter, generatedNote } from './markdown.js';

export interface EnvVariable {
  name: string;
  required: boolean;
  /** The value the hub uses when the variable is unset or empty, as the schema parses it. */
  defaultValue: unknown;
  /** Type and constraints in words, from the variable's JSON Schema. */
  accepts: string;
  description: string | undefined;
}

/** One entry per key of the hub's zod schema, in its order. */
export function envVariables(schema: z.ZodObject): EnvVariable[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const type = field as z.ZodType;
    const unset = type.safeParse(undefined);
    const json = z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return {
      name,
      required: !unset.success,
      defaultValue: unset.success ? unset.data : undefined,
      accepts: describeJsonSchema(json),
      description: ENV_DESCRIPTIONS[name],
    };
  });
}

function describeJsonSchema(json: Record<string, unknown>): string {
  if (Array.isArray(json.enum)) return `one of ${json.enum.map((v) => code(String(v))).join(', ')}`;
  const parts: string[] = [];
  if (json.type === 'integer') parts.push('integer');
  else if (json.format === 'uri') parts.push('URL');
  else if (typeof json.type === 'string') parts.push(json.type);
  if (typeof json.minimum === 'number' && typeof json.maximum === 'number' && json.maximum < Number.MAX_SAFE_INTEGER)
    parts.push(`${json.minimum}–${json.maximum}`);
  else if (typeof json.minimum === 'number') parts.push(`≥ ${json.minimum}`);
  if (typeof json.minLength === 'number' && json.minLength > 1) parts.push(`at least ${json.minLength} characters`);
  if (typeof json.pattern === 'string') parts.push(`matching ${code(json.pattern)}`);
  return parts.join(', ');
}

function defaultText(v: EnvVariable): string {
  if (v.required) return '**required**';
  if (v.defaultValue === undefined) return 'unset';
  return code(typeof v.defaultValue === 'string' ? v.defaultValue : JSON.stringify(v.defaultValue));
}

/** A set of variables read by one part of the hub; `planned` marks a part that exists in code but is not wired in yet. */
export interface EnvGroup {
  title: string;
  schema: z.ZodObject;
  planned?: string;
}

function variableSection(v: EnvVariable): string[] {
  return [
    `## ${v.name} {#${anchor(v.name)}}`,
    '',
    `${v.required ? 'Required.' : `Default: ${defaultText(v)}.`} Accepts: ${v.accepts || 'string'}.`,
    '',
    cellText(v.description ?? ''),
    '',
  ];
}

export function renderEnvReference(groups: EnvGroup[]): string {
  const all = groups.flatMap((g) => envVariables(g.schema));
  const missing = all.filter((v) => !v.description).map((v) => v.name);
  if (missing.length) throw new Error(`docs/generate/env-descriptions.ts has no description for ${missing.join(', ')}`);
  const [main, ...others] = groups;
  const vars = envVariables(main.schema);
  const lines = [
    frontMatter('Hub configuration', 'Every SONDE_* environment variable the hub reads, with its default and allowed values.'),
    generatedNote('hub/src/config.ts (EnvSchema)'),
    '# Hub configuration',
    '',
    'The hub is configured by environment variables only; there is no configuration file. On start it checks all of them at once and',
    'reports every problem as one line naming the variable (`sonde-hub: SONDE_ERR_CONFIG: …`, exit code 2). An empty variable counts',
    'as unset. `sonde-hub --help` lists the same names.',
    '',
    'Headless administration commands (`sonde-hub keys …`, `tokens …`, `audit …`) need only `SONDE_SECRET` and `SONDE_DB_PATH`',
    '(and read `SONDE_LOG_LEVEL`).',
    '',
    '| Variable | Default | Accepts |',
    '| --- | --- | --- |',
    ...vars.map((v) => `| [${code(v.name)}](#${anchor(v.name)}) | ${defaultText(v)} | ${v.accepts || 'string'} |`),
    '',
  ];
  for (const v of vars) lines.push(...variableSection(v));
  lines.push(
    '## TLS combinations {#tls-combinations}',
    '',
    '| Set | Result |',
    '| --- | --- |',
    '| nothing | plain HTTP (put a TLS-terminating proxy in front, or use it on loopback only) |',
    '| `SONDE_TLS=auto` | HTTPS with a certificate from the hub’s own CA for `SONDE_TLS_HOSTNAMES` |',
    '| `SONDE_TLS_CERT` + `SONDE_TLS_KEY` | HTTPS with your certificate |',
    '| only one of the two files, or `auto` with files | refused at start with one line naming the conflict |',
    '',
  );
  for (const group of others) {
    const groupVars = envVariables(group.schema);
    lines.push(`# ${group.title} {#${anchor(group.title)}}`, '');
    if (group.planned) lines.push('::: warning Planned', group.planned, ':::', '');
    lines.push(
      '| Variable | Default | Accepts |',
      '| --- | --- | --- |',
      ...groupVars.map((v) => `| [${code(v.name)}](#${anchor(v.name)}) | ${defaultText(v)} | ${v.accepts || 'string'} |`),
      '',
    );
    for (const v of groupVars) lines.push(...variableSection(v));
  }
  return lines.join('\n');
}

/** Descriptions are written with Markdown code spans: keep them, escape only what would become HTML. */
function cellText(text: string): string {
  return escapeForVitePress(text.replace(/\s*\n\s*/g, ' '));
}
