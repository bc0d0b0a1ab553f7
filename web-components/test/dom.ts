import type { LitElement } from 'lit';

/** Puts markup in the document and waits for the element's first render. */
export async function mount<T extends LitElement>(markup: string): Promise<T> {
  const holder = document.createElement('div');
  holder.innerHTML = markup;
  document.body.append(holder);
  const el = holder.firstElementChild as T;
  await el.updateComplete;
  return el;
}

/** Text of an element's shadow root, whitespace collapsed. */
export function shadowText(el: Element): string {
  return (el.shadowRoot?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** Waits for a condition the element reaches asynchronously (a fetch answered, a re-render); generous, for a loaded machine. */
export async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
