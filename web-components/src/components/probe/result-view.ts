import { html, type TemplateResult } from 'lit';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A probe result: a table for an array of objects, a tree (nested details) otherwise. */
export function renderValue(value: unknown, depth = 0): TemplateResult {
  if (Array.isArray(value) && value.length > 0 && value.every(isPlainObject)) return renderTable(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return html`<span class="muted">(empty list)</span>`;
    return html`<ol class="tree">
      ${value.map((item) => html`<li>${renderValue(item, depth + 1)}</li>`)}
    </ol>`;
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return html`<span class="muted">{}</span>`;
    return html`<dl class="tree">
      ${entries.map(([key, v]) =>
        isPlainObject(v) || Array.isArray(v)
          ? html`<details ?open=${depth < 2}>
              <summary><strong>${key}</strong> <span class="muted">${Array.isArray(v) ? `[${v.length}]` : '{…}'}</span></summary>
              ${renderValue(v, depth + 1)}
            </details>`
          : html`<div class="kv">
              <dt>${key}</dt>
              <dd>${scalar(v)}</dd>
            </div>`,
      )}
    </dl>`;
  }
  return scalar(value);
}

function renderTable(rows: Record<string, unknown>[]): TemplateResult {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return html`<div class="table-wrap">
    <table part="result-table">
      <thead>
        <tr>
          ${columns.map((c) => html`<th scope="col">${c}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) =>
            html`<tr>
              ${columns.map((c) => html`<td>${isPlainObject(row[c]) || Array.isArray(row[c]) ? JSON.stringify(row[c]) : scalar(row[c])}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function scalar(value: unknown): TemplateResult {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  if (typeof value === 'boolean') return html`${value ? 'true' : 'false'}`;
  if (typeof value === 'number') return html`<span class="num">${value}</span>`;
  return html`${typeof value === 'string' ? value : JSON.stringify(value)}`;
}
