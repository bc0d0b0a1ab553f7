import { css } from 'lit';

export const styles = css`
  :host {
    display: inline-block;
  }
  .badge {
    display: inline-flex;
    align-items: center;
    gap: 10px;
    padding: 4px 10px;
    border: 1px solid var(--s-border);
    border-radius: 999px;
    background: var(--s-surface);
    white-space: nowrap;
  }
  .degraded {
    color: var(--s-degraded);
  }
  .error {
    color: var(--s-danger);
  }
`;
