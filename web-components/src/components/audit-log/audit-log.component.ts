import { css, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { Loader } from '../../controllers/loader.js';
import { dateTime, field } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { AuditExportStatus, AuditRecord, VerifyResult } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';

interface AuditPage {
  entries: AuditRecord[];
  nextBefore: number | null;
}
interface Filters {
  agent: string;
  tool: string;
  key: string;
  from: string;
  to: string;
}

/**
 * The audit log: filter by agent, tool/action, key or user and date range;
 * page back by sequence number; the chain-integrity indicator (an incremental
 * verify from the last checkpoint when shown, a full verify on request, which
 * the hub runs on worker threads); how each audit export sink (syslog, webhook,
 * OTLP) keeps up, with the error of one that fails; export what is loaded as
 * CSV or JSON lines.
 *
 * @summary Audit entries with filters, paging, chain integrity and export.
 * @csspart filters - The filter form.
 * @csspart chain - The chain-integrity indicator.
 * @csspart export - The audit export sinks and their state (only when the hub has any).
 * @csspart table - The entries.
 */
export class SondeAuditLog extends SondeElement {
  static override styles = [
    tokens,
    controls,
    css`
      .chain {
        display: flex;
        gap: var(--s-space);
        align-items: center;
        margin-bottom: var(--s-space);
      }
      .ok {
        color: var(--s-online);
      }
      .broken {
        color: var(--s-danger);
        font-weight: 600;
      }
      td.detail {
        max-width: 28em;
        overflow-wrap: anywhere;
        font-size: 0.9em;
      }
      .status-denied,
      .status-error {
        color: var(--s-danger);
      }
      .more {
        margin-top: var(--s-space);
      }
      .export {
        list-style: none;
        padding: 0;
        margin: 0 0 var(--s-space);
      }
      .export .behind {
        color: var(--s-degraded);
        font-weight: 600;
      }
    `,
  ];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    agent: { type: String },
    entries: { state: true },
    nextBefore: { state: true },
    verifying: { state: true },
  };

  /** Preset agent filter (the agent view shows that agent's entries). */
  declare agent: string;
  declare private entries: AuditRecord[];
  declare private nextBefore: number | null;
  declare private verifying: boolean;
  private filters: Filters = { agent: '', tool: '', key: '', from: '', to: '' };

  private readonly page = new Loader<AuditPage>(this, async (signal) => {
    const query = new URLSearchParams({ limit: '50' });
    for (const [name, value] of Object.entries(this.filters)) if (value) query.set(name, value as string);
    const page = await this.client.get<AuditPage>(`/api/v1/audit?${query.toString()}`, signal);
    this.entries = page.entries;
    this.nextBefore = page.nextBefore;
    return page;
  });
  private readonly chain = new Loader<VerifyResult>(this, (signal) =>
    this.client.get<VerifyResult>(`/api/v1/audit/verify?full=${this.verifying ? 'true' : 'false'}`, signal),
  );

  /** Read again every 15 s: a sink that fails or recovers shows without a reload. A 403 (scoped key) shows nothing. */
  private readonly exportStatus = new Loader<AuditExportStatus>(
    this,
    (signal) => this.client.get<AuditExportStatus>('/api/v1/audit/export', signal),
    { pollMs: () => 15_000 },
  );

  constructor() {
    super();
    this.agent = '';
    this.entries = [];
    this.nextBefore = null;
    this.verifying = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('agent')) this.filters = { ...this.filters, agent: this.agent };
    if (changed.has('hub') || changed.has('token') || changed.has('agent') || this.page.state === 'idle') {
      void this.page.run();
      void this.chain.run();
      void this.exportStatus.run(true);
    }
  }

  private applyFilters(event: SubmitEvent): void {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const get = (name: string): string => field(data, name);
    this.filters = { agent: get('agent'), tool: get('tool'), key: get('key'), from: get('from'), to: get('to') };
    void this.page.run();
  }

  private async older(): Promise<void> {
    if (this.nextBefore === null) return;
    const query = new URLSearchParams({ limit: '50', before: String(this.nextBefore) });
    for (const [name, value] of Object.entries(this.filters)) if (value) query.set(name, value as string);
    try {
      const page = await this.client.get<AuditPage>(`/api/v1/audit?${query.toString()}`);
      this.entries = [...this.entries, ...page.entries];
      this.nextBefore = page.nextBefore;
    } catch (error) {
      this.page.error = error as Error;
      this.requestUpdate();
    }
  }

  private async fullVerify(): Promise<void> {
    this.verifying = true;
    await this.chain.run();
    this.verifying = false;
  }

  private exportAs(kind: 'csv' | 'jsonl'): void {
    const text =
      kind === 'jsonl'
        ? this.entries.map((e) => JSON.stringify(e)).join('\n') + '\n'
        : [
            'seq,at,action,actor,agents,probe,status,detail',
            ...this.entries.map((e) =>
              [e.seq, e.at, e.action, e.actor.name ?? e.actor.id ?? '', (e.agents ?? []).join(' '), e.probe ?? '', e.status, e.detail ?? '']
                .map((v) => `"${String(v).replaceAll('"', '""')}"`)
                .join(','),
            ),
          ].join('\n') + '\n';
    const url = URL.createObjectURL(new Blob([text], { type: kind === 'csv' ? 'text/csv' : 'application/x-ndjson' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `sonde-audit.${kind}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  private renderChain(): unknown {
    const { state, value, error } = this.chain;
    let text: unknown = 'Checking the chain…';
    if (state === 'error') text = html`<span class="broken">Chain check failed: ${error?.message}</span>`;
    else if (value && state === 'ready')
      text = value.ok
        ? html`<span class="ok" data-chain="ok">✔ Chain intact</span>
            <span class="muted"
              >(${value.checked} of ${value.total} entries checked${value.full ? ', full' : ' since the last checkpoint'},
              ${value.durationMs} ms)</span
            >`
        : html`<span class="broken" data-chain="broken">✘ Chain broken at entry ${value.firstBrokenSeq}: ${value.reason}</span>`;
    else if (this.verifying) text = 'Verifying every entry (the hub checks ranges in parallel)…';
    return html`<div class="chain" part="chain" role="status" aria-live="polite">
      ${text}
      <button type="button" ?disabled=${state === 'loading'} @click=${() => void this.fullVerify()}>Full verify</button>
    </div>`;
  }

  private renderExport(): unknown {
    const sinks = this.exportStatus.value?.sinks;
    if (!sinks?.length) return nothing;
    return html`<ul class="export" part="export" aria-label="Audit export">
      ${sinks.map((sink) => {
        const state = sink.failing ? 'failing' : sink.behind ? 'behind' : 'ok';
        const waiting = `${sink.lagEntries} entries waiting, the oldest ${sink.lagSeconds} s old`;
        return html`<li data-sink=${sink.sink} data-state=${state}>
          ${
            state === 'failing'
              ? html`<span class="broken">✘ Export to ${sink.sink} failing: ${sink.lastError}</span>
                  <span class="muted">(${waiting}; retrying)</span>`
              : state === 'behind'
                ? html`<span class="behind">⚠ Export to ${sink.sink} behind: ${waiting}</span>`
                : html`<span class="ok">✔ Export to ${sink.sink} up to date</span>
                    <span class="muted">(through entry ${sink.cursor})</span>`
          }
        </li>`;
      })}
    </ul>`;
  }

  protected override render(): unknown {
    const { state, error } = this.page;
    return html`
      <h2>Audit log</h2>
      ${this.renderChain()} ${this.renderExport()}
      <form class="toolbar" part="filters" aria-label="Filter audit entries" @submit=${(e: SubmitEvent) => this.applyFilters(e)}>
        <label>Agent <input name="agent" .value=${this.filters.agent} /></label>
        <label>Tool / action <input name="tool" .value=${this.filters.tool} placeholder="rest.probe" /></label>
        <label>Key or user id <input name="key" .value=${this.filters.key} /></label>
        <label>From <input name="from" type="date" .value=${this.filters.from} /></label>
        <label>To <input name="to" type="date" .value=${this.filters.to} /></label>
        <button class="primary" type="submit">Filter</button>
        <button type="button" ?disabled=${!this.entries.length} @click=${() => this.exportAs('csv')}>Export CSV</button>
        <button type="button" ?disabled=${!this.entries.length} @click=${() => this.exportAs('jsonl')}>Export JSON lines</button>
      </form>
      ${state === 'error' ? html`<div class="message error" role="alert">Could not load the audit log: ${error?.message}</div>` : nothing}
      ${state === 'loading' && !this.entries.length ? html`<div class="message" aria-busy="true">Loading entries…</div>` : nothing}
      ${state === 'ready' && !this.entries.length ? html`<div class="message">No entries match.</div>` : nothing}
      ${
        this.entries.length
          ? html`<table part="table">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">When</th>
                    <th scope="col">Action</th>
                    <th scope="col">Who</th>
                    <th scope="col">Agents</th>
                    <th scope="col">Probe</th>
                    <th scope="col">Status</th>
                    <th scope="col">Detail</th>
                  </tr>
                </thead>
                <tbody>
                  ${this.entries.map(
                    (e) =>
                      html`<tr data-seq=${e.seq} data-action=${e.action}>
                        <td>${e.seq}</td>
                        <td title=${e.at}>${dateTime(e.at)}</td>
                        <td><code>${e.action}</code></td>
                        <td>${e.actor.name ?? e.actor.id ?? e.actor.kind}</td>
                        <td>${(e.agents ?? []).join(', ')}</td>
                        <td>${e.probe ?? ''}</td>
                        <td class=${`status-${e.status}`}>${e.status}</td>
                        <td class="detail">${e.detail ?? ''}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
              ${
                this.nextBefore !== null
                  ? html`<button class="more" type="button" @click=${() => void this.older()}>Older entries</button>`
                  : nothing
              }`
          : nothing
      }
    `;
  }
}
