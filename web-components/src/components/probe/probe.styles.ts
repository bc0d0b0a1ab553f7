import { css } from 'lit';

export const styles = css`
  form.params {
    display: flex;
    flex-wrap: wrap;
    gap: var(--s-space) calc(var(--s-space) * 2);
    align-items: end;
    margin: var(--s-space) 0;
  }
  .description {
    margin: 0 0 var(--s-space);
    color: var(--s-muted);
  }
  .result {
    margin-top: calc(var(--s-space) * 2);
  }
  .meta {
    display: flex;
    gap: calc(var(--s-space) * 2);
    align-items: center;
    margin-bottom: var(--s-space);
  }
  .truncated {
    color: var(--s-degraded);
    font-weight: 600;
  }
  .status-ok {
    color: var(--s-online);
  }
  .status-error,
  .status-denied,
  .status-timeout,
  .status-offline {
    color: var(--s-danger);
  }
  .table-wrap {
    overflow: auto;
    max-height: 60vh;
  }
  .tree {
    margin: 0;
    padding-left: 1.2em;
  }
  dl.tree {
    padding-left: 0.6em;
  }
  .kv {
    display: flex;
    gap: 8px;
  }
  dt {
    font-weight: 600;
  }
  dd {
    margin: 0;
  }
  .num {
    font-variant-numeric: tabular-nums;
  }
`;
