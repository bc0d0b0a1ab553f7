import { css } from 'lit';

export const styles = css`
  .viewport {
    position: relative;
    height: var(--sonde-fleet-height, 480px);
    overflow-y: auto;
    border: 1px solid var(--s-border);
    border-radius: var(--s-radius);
    background: var(--s-bg);
  }
  .head,
  .row {
    display: grid;
    grid-template-columns: minmax(140px, 2fr) 110px minmax(120px, 2fr) 110px minmax(100px, 1fr) 110px;
    align-items: center;
    gap: 8px;
    padding: 0 10px;
  }
  .head {
    position: sticky;
    top: 0;
    z-index: 1;
    height: 36px;
    background: var(--s-surface);
    border-bottom: 1px solid var(--s-border);
    font-size: 0.85em;
    font-weight: 600;
    color: var(--s-muted);
  }
  .row {
    position: absolute;
    left: 0;
    right: 0;
    height: var(--row-height);
    border-bottom: 1px solid var(--s-border);
    cursor: pointer;
  }
  .row:hover {
    background: var(--s-surface);
  }
  .row:focus-visible {
    outline: 2px solid var(--s-accent);
    outline-offset: -2px;
  }
  .cell {
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .name {
    font-weight: 600;
  }
  .reason {
    color: var(--s-degraded);
    font-size: 0.85em;
  }
  .flag {
    font-size: 0.8em;
    padding: 0 6px;
    border-radius: 999px;
    border: 1px solid var(--s-degraded);
    color: var(--s-degraded);
    margin-left: 4px;
  }
  .empty {
    padding: calc(var(--s-space) * 3);
    text-align: center;
    color: var(--s-muted);
  }
  .summary {
    margin-left: auto;
    color: var(--s-muted);
  }
`;
