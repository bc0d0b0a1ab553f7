import { html, nothing, type TemplateResult } from 'lit';
import type { JsonSchema } from '../../internal/types.js';

/**
 * Form fields from a probe's params JSON Schema: strings (enum → select),
 * numbers and integers (min/max, step), booleans, arrays of scalars (comma
 * separated), anything else as JSON. Required, defaults and bounds become the
 * browser's own constraint validation.
 */
export function typeOf(schema: JsonSchema): string {
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  if (t) return t;
  if (schema.enum) return typeof schema.enum[0] === 'number' ? 'number' : 'string';
  const alt = (schema.anyOf ?? schema.oneOf)?.find((s) => s.type !== 'null');
  return alt ? typeOf(alt) : 'json';
}

export function renderFields(schema: JsonSchema, idPrefix: string): TemplateResult[] {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  return Object.entries(props).map(([name, prop]) => {
    const id = `${idPrefix}-${name}`;
    const type = typeOf(prop);
    const isRequired = required.has(name);
    const label = html`<span>${prop.title ?? name}${isRequired ? html`<span aria-hidden="true"> *</span>` : nothing}</span>`;
    const help = prop.description ? html`<small class="muted" id=${`${id}-help`}>${prop.description}</small>` : nothing;
    const described = prop.description ? `${id}-help` : undefined;
    const def = prop.default;
    if (prop.enum) {
      return html`<label for=${id}
        >${label}
        <select id=${id} name=${name} data-type=${type} ?required=${isRequired} aria-describedby=${described ?? nothing}>
          ${isRequired ? nothing : html`<option value="">—</option>`}
          ${prop.enum.map((v) => html`<option value=${String(v)} ?selected=${def === v}>${String(v)}</option>`)}
        </select>
        ${help}</label
      >`;
    }
    if (type === 'boolean') {
      return html`<label class="inline" for=${id}
        ><input
          id=${id}
          name=${name}
          type="checkbox"
          data-type="boolean"
          ?checked=${def === true}
          aria-describedby=${described ?? nothing}
        />
        ${label} ${help}</label
      >`;
    }
    if (type === 'number' || type === 'integer') {
      const min = prop.minimum ?? (prop.exclusiveMinimum !== undefined ? prop.exclusiveMinimum + (type === 'integer' ? 1 : 0) : undefined);
      const max = prop.maximum ?? (prop.exclusiveMaximum !== undefined ? prop.exclusiveMaximum - (type === 'integer' ? 1 : 0) : undefined);
      return html`<label for=${id}
        >${label}
        <input
          id=${id}
          name=${name}
          type="number"
          data-type=${type}
          step=${type === 'integer' ? '1' : 'any'}
          min=${min ?? nothing}
          max=${max ?? nothing}
          .value=${typeof def === 'number' ? String(def) : ''}
          ?required=${isRequired}
          aria-describedby=${described ?? nothing}
        />
        ${help}</label
      >`;
    }
    if (type === 'string') {
      return html`<label for=${id}
        >${label}
        <input
          id=${id}
          name=${name}
          type="text"
          data-type="string"
          minlength=${prop.minLength ?? nothing}
          maxlength=${prop.maxLength ?? nothing}
          pattern=${prop.pattern ?? nothing}
          .value=${typeof def === 'string' ? def : ''}
          ?required=${isRequired}
          aria-describedby=${described ?? nothing}
        />
        ${help}</label
      >`;
    }
    if (type === 'array' && prop.items && ['string', 'number', 'integer'].includes(typeOf(prop.items))) {
      return html`<label for=${id}
        >${label} <span class="muted">(comma separated)</span>
        <input
          id=${id}
          name=${name}
          type="text"
          data-type=${`array:${typeOf(prop.items)}`}
          .value=${Array.isArray(def) ? def.join(', ') : ''}
          ?required=${isRequired}
          aria-describedby=${described ?? nothing}
        />
        ${help}</label
      >`;
    }
    return html`<label for=${id}
      >${label} <span class="muted">(JSON)</span>
      <textarea id=${id} name=${name} data-type="json" rows="3" ?required=${isRequired} aria-describedby=${described ?? nothing}>
${def === undefined ? '' : JSON.stringify(def)}</textarea>
      ${help}</label
    >`;
  });
}

/** Reads the form back into typed params; empty optional fields are left out. Throws on bad JSON. */
export function readFields(form: HTMLFormElement): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const el of Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('[data-type]'))) {
    const type = el.dataset.type ?? 'string';
    if (type === 'boolean') {
      params[el.name] = (el as HTMLInputElement).checked;
      continue;
    }
    const raw = el.value.trim();
    if (raw === '') continue;
    if (type === 'number' || type === 'integer') params[el.name] = Number(raw);
    else if (type.startsWith('array:')) {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      params[el.name] = type === 'array:string' ? items : items.map(Number);
    } else if (type === 'json') {
      try {
        params[el.name] = JSON.parse(raw);
      } catch {
        throw new Error(`${el.name}: not valid JSON`);
      }
    } else params[el.name] = raw;
  }
  return params;
}
