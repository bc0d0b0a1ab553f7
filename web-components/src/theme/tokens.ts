import { css } from 'lit';

/**
 * Design tokens. Every colour, font and size an element uses comes from a
 * documented `--sonde-*` custom property with a built-in default; custom
 * properties inherit into shadow roots, so a host page themes every element by
 * setting them on any ancestor. The defaults switch to dark with
 * `prefers-color-scheme: dark` unless `theme="light"`, and with `theme="dark"`.
 */
const light = css`
  --s-bg: var(--sonde-color-bg, #ffffff);
  --s-surface: var(--sonde-color-surface, #f5f6f8);
  --s-fg: var(--sonde-color-fg, #1b1e24);
  --s-muted: var(--sonde-color-muted, #5b6270);
  --s-border: var(--sonde-color-border, #d5d9e0);
  --s-accent: var(--sonde-color-accent, #1f5fbf);
  --s-accent-fg: var(--sonde-color-accent-fg, #ffffff);
  --s-online: var(--sonde-color-online, #1a7f37);
  --s-offline: var(--sonde-color-offline, #6e7781);
  --s-degraded: var(--sonde-color-degraded, #9a6700);
  --s-danger: var(--sonde-color-danger, #c4281c);
  --s-code-bg: var(--sonde-color-code-bg, #eef0f3);
`;
const dark = css`
  --s-bg: var(--sonde-color-bg, #15181d);
  --s-surface: var(--sonde-color-surface, #1e232a);
  --s-fg: var(--sonde-color-fg, #e6e9ee);
  --s-muted: var(--sonde-color-muted, #9aa3b1);
  --s-border: var(--sonde-color-border, #363d48);
  --s-accent: var(--sonde-color-accent, #6ea8fe);
  --s-accent-fg: var(--sonde-color-accent-fg, #0b1220);
  --s-online: var(--sonde-color-online, #4ac26b);
  --s-offline: var(--sonde-color-offline, #8b949e);
  --s-degraded: var(--sonde-color-degraded, #d4a72c);
  --s-danger: var(--sonde-color-danger, #ff7b72);
  --s-code-bg: var(--sonde-color-code-bg, #262c35);
`;

export const tokens = css`
  :host {
    ${light}
    --s-radius: var(--sonde-radius, 6px);
    --s-space: var(--sonde-space, 8px);
    --s-font: var(--sonde-font-family, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --s-mono: var(--sonde-font-family-mono, ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace);
    --s-size: var(--sonde-font-size, 14px);
    --s-focus: var(--sonde-focus-ring, 0 0 0 3px color-mix(in srgb, var(--s-accent) 45%, transparent));
    color-scheme: light;
    font-family: var(--s-font);
    font-size: var(--s-size);
    line-height: 1.45;
    color: var(--s-fg);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
      color-scheme: dark;
    }
  }
  :host([theme='dark']) {
    ${dark}
    color-scheme: dark;
  }
`;

/** Controls shared by every element: buttons, inputs, tables, status dots, messages. */
export const controls = css`
  :host {
    display: block;
    box-sizing: border-box;
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  button,
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    border: 1px solid var(--s-border);
    background: var(--s-surface);
    border-radius: var(--s-radius);
    padding: 4px 12px;
    min-height: 32px;
  }
  button.primary {
    background: var(--s-accent);
    border-color: var(--s-accent);
    color: var(--s-accent-fg);
  }
  button.danger {
    color: var(--s-danger);
    border-color: var(--s-danger);
    background: transparent;
  }
  button:disabled {
    opacity: 0.55;
    cursor: default;
  }
  input,
  select,
  textarea {
    background: var(--s-bg);
    border: 1px solid var(--s-border);
    border-radius: var(--s-radius);
    padding: 4px 8px;
    min-height: 32px;
  }
  :is(button, input, select, textarea, a, [tabindex], summary):focus-visible {
    outline: 2px solid var(--s-accent);
    outline-offset: 1px;
    box-shadow: var(--s-focus);
  }
  a {
    color: var(--s-accent);
  }
  label {
    display: inline-flex;
    flex-direction: column;
    gap: 2px;
    font-size: 0.9em;
    color: var(--s-muted);
  }
  label > :is(input, select, textarea) {
    color: var(--s-fg);
  }
  label.inline {
    flex-direction: row;
    align-items: center;
    gap: 6px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 6px 8px;
    border-bottom: 1px solid var(--s-border);
    vertical-align: middle;
  }
  th {
    font-weight: 600;
    color: var(--s-muted);
    font-size: 0.85em;
  }
  code,
  pre {
    font-family: var(--s-mono);
    font-size: 0.9em;
  }
  pre {
    background: var(--s-code-bg);
    padding: var(--s-space);
    border-radius: var(--s-radius);
    overflow: auto;
    white-space: pre-wrap;
    word-break: break-all;
  }
  h2 {
    font-size: 1.15em;
    margin: 0 0 var(--s-space);
  }
  h3 {
    font-size: 1em;
    margin: calc(var(--s-space) * 2) 0 var(--s-space);
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    gap: var(--s-space);
    align-items: end;
    margin-bottom: var(--s-space);
  }
  .muted {
    color: var(--s-muted);
  }
  .message {
    padding: var(--s-space);
    border-radius: var(--s-radius);
    background: var(--s-surface);
    border: 1px solid var(--s-border);
  }
  .message.error {
    color: var(--s-danger);
    border-color: var(--s-danger);
  }
  .dot {
    display: inline-block;
    width: 0.6em;
    height: 0.6em;
    border-radius: 50%;
    margin-right: 6px;
    background: var(--s-offline);
  }
  .dot.online {
    background: var(--s-online);
  }
  .dot.degraded {
    background: var(--s-degraded);
  }
  .secret {
    display: flex;
    gap: var(--s-space);
    align-items: center;
    flex-wrap: wrap;
    padding: var(--s-space);
    border: 1px solid var(--s-accent);
    border-radius: var(--s-radius);
    margin-bottom: var(--s-space);
  }
  .secret code {
    word-break: break-all;
    user-select: all;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
