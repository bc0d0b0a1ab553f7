import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { anchor, cell, code, fenced, frontMatter, generatedNote, table } from './markdown.js';

/** The parts of a built `sonde-pack.json` these pages show (the full contract is pack-sdk's manifest schema). */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}
export interface ProbeManifest {
  name: string;
  description: string;
  capability: string;
  timeoutMs: number;
  maxOutputBytes: number;
  openWorld?: boolean;
  params: JsonSchema;
  result: JsonSchema;
}
export interface PackManifest {
  name: string;
  version: string;
  description: string;
  kind?: 'system' | 'integration';
  detect?: { commands?: string[]; files?: string[]; services?: string[] };
  permissions: {
    commands?: { binary: string; args: string[][]; description?: string }[];
    files?: string[];
    groups?: string[];
    network?: { host: string; port?: number; protocol: string; paths?: string[] }[];
    credentials?: { name: string; description: string }[];
  };
  probes: ProbeManifest[];
  runbooks?: { category: string; description: string; steps: { probe: string; params?: unknown }[] }[];
}

/** Every bundled pack, read from the manifests the build writes (`packs/<dir>/sonde-pack.json`). */
export function readBundledPacks(root: string): { dir: string; manifest: PackManifest }[] {
  const packsDir = path.join(root, 'packs');
  const out: { dir: string; manifest: PackManifest }[] = [];
  for (const dir of readdirSync(packsDir).sort()) {
    if (!existsSync(path.join(packsDir, dir, 'package.json'))) continue;
    const file = path.join(packsDir, dir, 'sonde-pack.json');
    if (!existsSync(file)) throw new Error(`packs/${dir}/sonde-pack.json is missing: run \`npm run build\` first`);
    out.push({ dir, manifest: JSON.parse(readFileSync(file, 'utf8')) as PackManifest });
  }
  return out;
}

/** A JSON Schema type in a few words: `string`, `integer 1–1000`, `array of object`, `"a" \| "b"`. */
export function typeText(s: JsonSchema | undefined): string {
  if (!s) return 'any';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeText).join(' or ');
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  let text = types.length ? types.join(' or ') : 'any';
  if (types.includes('array')) text = text.replace('array', `array of ${typeText(s.items)}`);
  const bounds: string[] = [];
  if (s.minimum !== undefined && s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) bounds.push(`${s.minimum}–${s.maximum}`);
  else if (s.minimum !== undefined && s.minimum !== 0) bounds.push(`≥ ${s.minimum}`);
  else if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) bounds.push(`≤ ${s.maximum}`);
  if (s.maxLength !== undefined) bounds.push(`≤ ${s.maxLength} chars`);
  return bounds.length ? `${text} (${bounds.join(', ')})` : text;
}

function paramsTable(params: JsonSchema): string {
  const props = Object.entries(params.properties ?? {});
  if (props.length === 0) return 'No parameters.';
  const required = new Set(params.required ?? []);
  return table(
    ['Parameter', 'Type', 'Required', 'Default', 'Description'],
    props.map(([name, s]) => [
      code(name),
      cell(typeText(s)),
      required.has(name) ? 'yes' : 'no',
      s.default === undefined ? '' : code(JSON.stringify(s.default)),
      cell(s.description ?? ''),
    ]),
  );
}

function resultFields(result: JsonSchema): string {
  const props = Object.entries(result.properties ?? {});
  if (props.length === 0) return `A ${cell(typeText(result))}.`;
  return table(
    ['Field', 'Type'],
    props.map(([name, s]) => [code(name), cell(typeText(s))]),
  );
}

/** The MCP tool name the hub gives a probe when the name fits (hub/src/mcp/tool-names.ts shortens longer ones with a hash). */
export function plainToolName(pack: string, probe: string): string {
  return `${pack}.${probe}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

function permissionsSection(m: PackManifest): string[] {
  const p = m.permissions;
  const lines: string[] = ['## Permissions {#permissions}', ''];
  lines.push(
    'What the pack may do on the host. An operator approves exactly this; a version that asks for more waits for a new approval.',
    '',
  );
  if (p.commands?.length) {
    lines.push('**Commands** (run with `execFile`, never a shell; each argument list must match one shape):', '');
    lines.push(
      table(
        ['Binary', 'Allowed argument shapes', 'Why'],
        p.commands.map((c) => [
          code(c.binary),
          c.args.map((a) => (a.length ? code(a.join(' ')) : '*(no arguments)*')).join('<br>'),
          cell(c.description ?? ''),
        ]),
      ),
      '',
    );
  }
  if (p.files?.length) lines.push(`**Files** (read only): ${p.files.map(code).join(', ')}`, '');
  if (p.groups?.length) lines.push(`**Groups** the agent user needs: ${p.groups.map(code).join(', ')}`, '');
  if (p.network?.length) {
    lines.push('**Network**:', '');
    lines.push(
      table(
        ['Host', 'Protocol', 'Port', 'Paths'],
        p.network.map((n) => [code(n.host), n.protocol, n.port === undefined ? '' : String(n.port), (n.paths ?? []).map(code).join(', ')]),
      ),
      '',
    );
  }
  if (p.credentials?.length) {
    lines.push('**Credentials** (set per instance, sealed at rest, never returned):', '');
    lines.push(
      table(
        ['Name', 'Description'],
        p.credentials.map((c) => [code(c.name), cell(c.description)]),
      ),
      '',
    );
  }
  if (!p.commands?.length && !p.files?.length && !p.groups?.length && !p.network?.length && !p.credentials?.length) lines.push('None.', '');
  return lines;
}

export function renderPackPage(m: PackManifest, dir: string): string {
  const kind = m.kind ?? 'system';
  const where =
    kind === 'integration'
      ? 'This is an **integration pack**: it runs on the hub against a product API, once per configured instance. Every tool takes a required `instance` argument.'
      : 'This is a **system pack**: it runs on an agent, on the host it is installed on.';
  const lines = [
    frontMatter(`${m.name} pack`, m.description),
    generatedNote(`packs/${dir}/sonde-pack.json`),
    `# ${m.name} pack`,
    '',
    cell(m.description),
    '',
    table(['Package', 'Version', 'Kind', 'Probes'], [[code(`@sonde/pack-${dir}`), code(m.version), kind, String(m.probes.length)]]),
    '',
    where,
    '',
  ];
  const d = m.detect;
  if (d && (d.commands?.length || d.files?.length || d.services?.length)) {
    const parts = [
      d.commands?.length ? `commands ${d.commands.map(code).join(', ')}` : '',
      d.files?.length ? `files ${d.files.map(code).join(', ')}` : '',
      d.services?.length ? `services ${d.services.map(code).join(', ')}` : '',
    ].filter(Boolean);
    lines.push(`\`sonde packs scan\` suggests this pack when it finds ${parts.join('; ')}.`, '');
  }
  lines.push(...permissionsSection(m));
  lines.push('## Probes {#probes}', '');
  lines.push(
    table(
      ['Probe', 'MCP tool', 'Summary'],
      m.probes.map((p) => [
        `[${code(p.name)}](#${anchor(p.name)})`,
        code(plainToolName(m.name, p.name)),
        cell(firstSentence(p.description)),
      ]),
    ),
    '',
  );
  for (const p of m.probes) {
    lines.push(`### ${p.name} {#${anchor(p.name)}}`, '');
    lines.push(cell(p.description), '');
    lines.push(
      `Capability ${code(p.capability)} · timeout ${p.timeoutMs / 1000} s · result cap ${formatBytes(p.maxOutputBytes)}${p.openWorld ? ' · reaches hosts named in its parameters (open world)' : ''}`,
      '',
    );
    lines.push('**Parameters**', '', paramsTable(p.params), '');
    lines.push('**Result**', '', resultFields(p.result), '');
    lines.push(
      '::: details JSON Schemas (parameters and result)',
      fenced('json', JSON.stringify({ params: p.params, result: p.result }, null, 2)),
      ':::',
      '',
    );
  }
  if (m.runbooks?.length) {
    lines.push('## Runbooks {#runbooks}', '');
    lines.push('The `diagnose` MCP tool runs these probe sequences for a category.', '');
    lines.push(
      table(
        ['Category', 'What it checks', 'Steps'],
        m.runbooks.map((r) => [code(r.category), cell(r.description), r.steps.map((s) => code(s.probe)).join(' → ')]),
      ),
      '',
    );
  }
  return lines.join('\n');
}

export function renderPackIndex(packs: { dir: string; manifest: PackManifest }[]): string {
  const row = ({ dir, manifest: m }: { dir: string; manifest: PackManifest }) => [
    `[${m.name}](./${dir})`,
    code(m.version),
    String(m.probes.length),
    cell(m.description),
  ];
  const system = packs.filter((p) => (p.manifest.kind ?? 'system') === 'system');
  const integration = packs.filter((p) => p.manifest.kind === 'integration');
  const total = packs.reduce((n, p) => n + p.manifest.probes.length, 0);
  return [
    frontMatter('Packs and probes', 'Every bundled pack with its permissions, probes, parameters and result schemas.'),
    generatedNote('packs/*/sonde-pack.json'),
    '# Packs and probes',
    '',
    `The repository bundles ${packs.length} packs with ${total} probes. These pages are generated from each pack’s built manifest`,
    '(`sonde-pack.json`, written by `npm run build` from the pack’s `definePack` call), so they always match the code.',
    '',
    '## System packs (run on agents) {#system-packs}',
    '',
    table(['Pack', 'Version', 'Probes', 'What it covers'], system.map(row)),
    '',
    '## Integration packs (run on the hub) {#integration-packs}',
    '',
    table(['Pack', 'Version', 'Probes', 'What it covers'], integration.map(row)),
    '',
  ].join('\n');
}

function firstSentence(text: string): string {
  const m = /^(.+?[.!?])(\s|$)/.exec(text);
  return m ? m[1] : text;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Which OS groups the bundled system packs declare, for the agent install guide: group → packs that need it. */
export function renderGroupsTable(packs: { dir: string; manifest: PackManifest }[]): string {
  const byGroup = new Map<string, string[]>();
  for (const { dir, manifest } of packs) {
    if ((manifest.kind ?? 'system') !== 'system') continue;
    for (const group of manifest.permissions.groups ?? [])
      byGroup.set(group, [...(byGroup.get(group) ?? []), `[${manifest.name}](/reference/packs/${dir})`]);
  }
  return [
    `<!-- Generated by docs/generate from packs/*/sonde-pack.json (permissions.groups). -->`,
    table(
      ['Group', 'Packs that declare it'],
      [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([group, names]) => [code(group), names.join(', ')]),
    ),
  ].join('\n');
}
