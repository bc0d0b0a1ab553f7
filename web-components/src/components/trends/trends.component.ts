import { css, html, nothing, svg, type PropertyDeclarations, type PropertyValues } from 'lit';
import { Loader } from '../../controllers/loader.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { CallRecord } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';
import { buckets, groups, probeCalls, type Bucket } from './aggregate.js';

const RANGES: Record<string, number> = { '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000 };
/** At most this many audit entries are read per refresh (four pages of the REST maximum). */
const MAX_ENTRIES = 2000;
const BUCKETS = 24;

interface Window {
  from: number;
  to: number;
  entries: CallRecord[];
  capped: boolean;
}

/**
 * Probe volume, error rate and latency over time (1 h … 7 d), per probe or per
 * agent, with two small hand-drawn SVG charts. Computed in the browser from
 * the audit log's probe entries (REST and MCP calls), newest first, up to 2,000
 * entries per refresh; the view says when the range holds more.
 *
 * @summary Probe volume, errors and latency over time.
 * @csspart chart - Each chart.
 * @csspart table - The per-probe / per-agent table.
 * @cssproperty --sonde-color-accent - Bar colour for successful calls.
 * @cssproperty --sonde-color-danger - Bar colour for failed calls.
 */
export class SondeTrends extends SondeElement {
  static override styles = [
    tokens,
    controls,
    css`
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
        gap: calc(var(--s-space) * 2);
        margin-bottom: calc(var(--s-space) * 2);
      }
      figure {
        margin: 0;
        border: 1px solid var(--s-border);
        border-radius: var(--s-radius);
        padding: var(--s-space);
      }
      figcaption {
        color: var(--s-muted);
        font-size: 0.85em;
        margin-bottom: 4px;
      }
      svg {
        width: 100%;
        height: 120px;
        display: block;
      }
      .ok {
        fill: var(--s-accent);
      }
      .err {
        fill: var(--s-danger);
      }
      .line {
        fill: none;
        stroke: var(--s-degraded);
        stroke-width: 2;
      }
      .point {
        fill: var(--s-degraded);
      }
      .axis {
        stroke: var(--s-border);
      }
      th.num,
      td.num {
        font-variant-numeric: tabular-nums;
        text-align: right;
      }
    `,
  ];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    range: { type: String, reflect: true },
    by: { type: String, reflect: true },
    agent: { type: String },
    pollInterval: { type: Number, attribute: 'poll-interval' },
  };

  /** `1h`, `6h`, `24h` (default) or `7d`. */
  declare range: string;
  /** Group the table by `probe` (default) or `agent`. */
  declare by: 'probe' | 'agent';
  /** Only this agent's calls. */
  declare agent: string;
  /** Refresh period in ms (default 60000; 0 stops). */
  declare pollInterval: number;

  private readonly window = new Loader<Window>(
    this,
    async (signal) => {
      const to = Date.now();
      const from = to - (RANGES[this.range] ?? RANGES['24h']);
      const entries: CallRecord[] = [];
      let before: number | null = null;
      do {
        const query = new URLSearchParams({ limit: '500', from: new Date(from).toISOString() });
        if (this.agent) query.set('agent', this.agent);
        if (before !== null) query.set('before', String(before));
        const page: { entries: CallRecord[]; nextBefore: number | null } = await this.client.get(
          `/api/v1/audit?${query.toString()}`,
          signal,
        );
        entries.push(...page.entries);
        before = page.nextBefore;
      } while (before !== null && entries.length < MAX_ENTRIES);
      return { from, to, entries, capped: before !== null };
    },
    { pollMs: () => this.pollInterval },
  );

  constructor() {
    super();
    this.range = '24h';
    this.by = 'probe';
    this.agent = '';
    this.pollInterval = 60_000;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || changed.has('range') || changed.has('agent') || this.window.state === 'idle')
      void this.window.run(changed.has('range') && this.window.state !== 'idle' ? false : true);
  }

  private bars(data: Bucket[]): unknown {
    const max = Math.max(1, ...data.map((b) => b.calls));
    const w = 100 / data.length;
    return svg`<line class="axis" x1="0" y1="100" x2="100" y2="100"></line>
      ${data.map((b, i) => {
        const okH = ((b.calls - b.errors) / max) * 95;
        const errH = (b.errors / max) * 95;
        return svg`<rect class="ok" x=${i * w + w * 0.1} width=${w * 0.8} y=${100 - okH} height=${okH}><title>${new Date(b.start).toLocaleString()}: ${b.calls} calls, ${b.errors} failed</title></rect>
          <rect class="err" x=${i * w + w * 0.1} width=${w * 0.8} y=${100 - okH - errH} height=${errH}></rect>`;
      })}`;
  }

  private latency(data: Bucket[]): unknown {
    const max = Math.max(1, ...data.map((b) => b.p95Ms ?? 0));
    const w = 100 / data.length;
    const xy = data.flatMap((b, i) => (b.p95Ms === null ? [] : [[i * w + w / 2, 100 - (b.p95Ms / max) * 95, b.p95Ms] as const]));
    const points = xy.map(([x, y]) => `${x},${y}`).join(' ');
    return svg`<line class="axis" x1="0" y1="100" x2="100" y2="100"></line>
      <polyline class="line" vector-effect="non-scaling-stroke" points=${points}><title>p95 latency, max ${max} ms</title></polyline>
      ${xy.map(([x, y, ms]) => svg`<rect class="point" x=${x - 0.6} y=${y - 2} width="1.2" height="4"><title>${ms} ms</title></rect>`)}`;
  }

  protected override render(): unknown {
    const { state, value, error } = this.window;
    const calls = value ? probeCalls(value.entries) : [];
    const series = value ? buckets(calls, value.from, value.to, BUCKETS) : [];
    const rows = groups(calls, this.by);
    const failed = calls.filter((c) => c.status !== 'ok').length;
    const maxP95 = Math.max(0, ...series.map((b) => b.p95Ms ?? 0));
    return html`
      <h2>Trends</h2>
      <div class="toolbar">
        <label
          >Range
          <select @change=${(e: Event) => (this.range = (e.target as HTMLSelectElement).value)}>
            ${Object.keys(RANGES).map((r) => html`<option value=${r} ?selected=${this.range === r}>${r}</option>`)}
          </select></label
        >
        <label
          >Per
          <select @change=${(e: Event) => (this.by = (e.target as HTMLSelectElement).value as 'probe' | 'agent')}>
            <option value="probe" ?selected=${this.by === 'probe'}>probe</option>
            <option value="agent" ?selected=${this.by === 'agent'}>agent</option>
          </select></label
        >
        <span class="muted" role="status"
          >${
            value
              ? `${calls.length} probe calls${calls.length ? `, ${Math.round((failed / calls.length) * 100)} % failed` : ''}${value.capped ? ` (the newest ${value.entries.length} audit entries of the range)` : ''}`
              : ''
          }</span
        >
      </div>
      ${state === 'error' ? html`<div class="message error" role="alert">Could not load the audit log: ${error?.message}</div>` : nothing}
      ${!value && state !== 'error' ? html`<div class="message" aria-busy="true">Loading…</div>` : nothing}
      ${value && calls.length === 0 ? html`<div class="message">No probe calls in the last ${this.range}.</div>` : nothing}
      ${
        calls.length
          ? html`<div class="charts">
                <figure part="chart">
                  <figcaption>Calls in ${BUCKETS} intervals (failed on top)</figcaption>
                  <svg viewBox="0 0 100 100" preserveAspectRatio="none" role="img" aria-label=${`Probe calls over the last ${this.range}`}>
                    ${this.bars(series)}
                  </svg>
                </figure>
                <figure part="chart">
                  <figcaption>p95 latency (max ${maxP95} ms)</figcaption>
                  <svg viewBox="0 0 100 100" preserveAspectRatio="none" role="img" aria-label=${`p95 latency over the last ${this.range}`}>
                    ${this.latency(series)}
                  </svg>
                </figure>
              </div>
              <table part="table">
                <thead>
                  <tr>
                    <th scope="col">${this.by}</th>
                    <th scope="col">Calls</th>
                    <th scope="col">Failed</th>
                    <th scope="col">p50 ms</th>
                    <th scope="col">p95 ms</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(
                    (r) =>
                      html`<tr data-key=${r.key}>
                        <td>${r.key}</td>
                        <td class="num">${r.calls}</td>
                        <td class="num">${r.errors ? `${r.errors} (${Math.round((r.errors / r.calls) * 100)} %)` : '0'}</td>
                        <td class="num">${r.p50Ms ?? '—'}</td>
                        <td class="num">${r.p95Ms ?? '—'}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
          : nothing
      }
    `;
  }
}
