import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cell, code, frontMatter, generatedNote, table } from './markdown.js';

/**
 * One page per dashboard element, from the Custom Elements Manifest the web-components build writes
 * (`web-components/dist/custom-elements.json`, itself generated from the elements' JSDoc): attributes, events,
 * `::part` names and `--sonde-*` custom properties, so the reference cannot drift from the code.
 */
interface Named {
  name: string;
  description?: string;
  type?: { text: string };
  default?: string;
  fieldName?: string;
  inheritedFrom?: { name: string };
}
export interface ElementDoc {
  name: string;
  tagName: string;
  summary?: string;
  description?: string;
  attributes?: Named[];
  events?: Named[];
  cssParts?: Named[];
  cssProperties?: Named[];
  slots?: Named[];
}

export function readElements(root: string): ElementDoc[] {
  const file = path.join(root, 'web-components', 'dist', 'custom-elements.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { modules: Array<{ declarations?: Array<Partial<ElementDoc>> }> };
  return manifest.modules
    .flatMap((module) => module.declarations ?? [])
    .filter((d): d is ElementDoc => typeof d.tagName === 'string' && typeof d.name === 'string')
    .sort((a, b) => a.tagName.localeCompare(b.tagName));
}

/** The page's file name: the tag without the `sonde-` prefix. */
export const elementSlug = (element: ElementDoc): string => element.tagName.replace(/^sonde-/, '');

/** `emit(name, …)` of the base class shows up in the analyzer's output as an event called `name`: not an event. */
const realEvents = (element: ElementDoc): Named[] => (element.events ?? []).filter((e) => !(e.name === 'name' && e.inheritedFrom));

function section(title: string, rows: Named[], columns: 'attributes' | 'plain', empty: string): string {
  if (rows.length === 0) return `## ${title}\n\n${empty}\n`;
  if (columns === 'attributes')
    return `## ${title}\n\n${table(
      ['attribute', 'property', 'type', 'default', 'description'],
      rows.map((r) => [
        code(r.name),
        r.fieldName ? code(r.fieldName) : '',
        r.type ? code(r.type.text) : '',
        r.default ? code(r.default) : '',
        cell(r.description ?? ''),
      ]),
    )}\n`;
  return `## ${title}\n\n${table(
    ['name', 'description'],
    rows.map((r) => [code(r.name), cell(r.description ?? '')]),
  )}\n`;
}

export function renderElementPage(element: ElementDoc): string {
  const summary = element.summary ?? '';
  return [
    frontMatter(`<${element.tagName}>`, summary || `The ${element.tagName} web component`),
    generatedNote('web-components/dist/custom-elements.json'),
    `# ${code(`<${element.tagName}>`)}\n`,
    summary ? `${cell(summary)}\n` : '',
    element.description ? `${cell(element.description)}\n` : '',
    fencedUsage(element),
    section('Attributes', element.attributes ?? [], 'attributes', 'None beyond the element itself.'),
    section('Events', realEvents(element), 'plain', 'None.'),
    section('Parts', element.cssParts ?? [], 'plain', 'None.'),
    section('CSS custom properties', element.cssProperties ?? [], 'plain', 'Only the shared `--sonde-*` theme tokens.'),
  ]
    .filter(Boolean)
    .join('\n');
}

function fencedUsage(element: ElementDoc): string {
  return [
    '## Usage\n',
    '```html',
    '<script type="module" src="https://hub.example.com/ui/sonde.js"></script>',
    `<${element.tagName} hub="https://hub.example.com" token="…"></${element.tagName}>`,
    '```',
    '',
    'Without `hub` and `token` the element uses the page’s origin and the dashboard session, or the nearest `<sonde-provider>`. ' +
      'On a portal page use an embed token (see [Embedding widgets](/guide/embedding)).\n',
  ].join('\n');
}

export function renderElementIndex(elements: ElementDoc[]): string {
  return [
    frontMatter('Dashboard elements', 'The Lit web components of the Sonde dashboard'),
    generatedNote('web-components/dist/custom-elements.json'),
    '# Dashboard elements\n',
    'Each element works alone on any page (script mode) or inside `<sonde-app>`. Shadow DOM throughout: style them through ' +
      'the listed `::part` names and custom properties.\n',
    table(
      ['element', 'summary'],
      elements.map((e) => [`[${code(`<${e.tagName}>`)}](./${elementSlug(e)})`, cell(e.summary ?? '')]),
    ),
    '',
  ].join('\n');
}
