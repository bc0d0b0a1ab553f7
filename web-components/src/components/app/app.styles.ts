import { css } from 'lit';

export const styles = css`
  :host {
    min-height: 100vh;
    background: var(--s-bg);
  }
  header {
    display: flex;
    align-items: center;
    gap: calc(var(--s-space) * 2);
    padding: var(--s-space) calc(var(--s-space) * 2);
    border-bottom: 1px solid var(--s-border);
    background: var(--s-surface);
  }
  .brand {
    font-weight: 700;
    font-size: 1.1em;
    letter-spacing: 0.02em;
  }
  nav {
    display: flex;
    gap: calc(var(--s-space) * 2);
    flex-wrap: wrap;
  }
  .group {
    display: flex;
    gap: 4px;
    align-items: center;
  }
  .group-label {
    color: var(--s-muted);
    font-size: 0.8em;
    text-transform: uppercase;
    letter-spacing: 0.05em;
    margin-right: 2px;
  }
  nav a {
    text-decoration: none;
    color: var(--s-fg);
    padding: 4px 8px;
    border-radius: var(--s-radius);
  }
  nav a[aria-current='page'] {
    background: var(--s-accent);
    color: var(--s-accent-fg);
  }
  .spacer {
    flex: 1;
  }
  main {
    padding: calc(var(--s-space) * 2);
    max-width: 1280px;
  }
  .login {
    max-width: 340px;
    margin: 12vh auto;
    padding: calc(var(--s-space) * 3);
    border: 1px solid var(--s-border);
    border-radius: var(--s-radius);
    background: var(--s-surface);
    display: flex;
    flex-direction: column;
    gap: calc(var(--s-space) * 1.5);
  }
  .login label {
    display: flex;
  }
  .login h1 {
    margin: 0;
    font-size: 1.3em;
  }
  .login .sso {
    text-align: center;
    padding: var(--s-space);
    border: 1px solid var(--s-border);
    border-radius: var(--s-radius);
    color: inherit;
  }
  .export-alert {
    padding: 4px 10px;
    border-radius: 999px;
    border: 1px solid currentColor;
    font-size: 0.9em;
    font-weight: 600;
    text-decoration: none;
    white-space: nowrap;
  }
  .export-alert.failing {
    color: var(--s-danger);
  }
  .export-alert.behind {
    color: var(--s-degraded);
  }
  .crumb {
    margin-bottom: var(--s-space);
  }
`;
