import { css } from 'lit';

export const styles = css`
  form.create {
    display: flex;
    flex-wrap: wrap;
    gap: var(--s-space);
    align-items: end;
    padding: var(--s-space);
    border: 1px solid var(--s-border);
    border-radius: var(--s-radius);
    margin-bottom: calc(var(--s-space) * 2);
  }
  .actions {
    display: flex;
    gap: 6px;
    justify-content: flex-end;
  }
  .revoked td {
    color: var(--s-muted);
  }
  .scope {
    font-size: 0.85em;
  }
`;
