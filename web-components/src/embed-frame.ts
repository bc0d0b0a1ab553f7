/**
 * `/ui/embed.js`, the script of the hub's iframe pages (`/embed/<view>`). The
 * page names its view and the origins allowed to frame it (data attributes
 * the hub writes from SONDE_EMBED_ORIGINS). It tells its parent it is ready,
 * then waits for `{ type: 'sonde-embed-token', token, theme? }` by
 * `postMessage` from one of those origins: only then is the element created,
 * with the token as its Bearer credential. The token never travels in the
 * URL, and a message from any other origin is ignored. The parent may post a
 * fresh token at any time (before the old one expires).
 *
 * `/embed/agent?agent=<name>` (and `/embed/trends?agent=<name>`) names the
 * agent in the URL: not a secret, since the token alone decides what the
 * element may read (an agent outside its scope is simply not found).
 */
interface EmbeddedElement extends HTMLElement {
  token: string | undefined;
}

const root = document.documentElement;
const view = root.dataset.sondeView ?? '';
const allowed = (root.dataset.sondeOrigins ?? '').split(' ').filter(Boolean);
const agent = new URLSearchParams(location.search).get('agent');
let element: EmbeddedElement | undefined;

addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!allowed.includes(event.origin)) return;
  const data = event.data as { type?: unknown; token?: unknown; theme?: unknown } | null;
  if (!data || data.type !== 'sonde-embed-token' || typeof data.token !== 'string' || !data.token.startsWith('sonde_embed_')) return;
  if (!element) {
    element = document.createElement(`sonde-${view}`) as EmbeddedElement;
    if (agent && (view === 'agent' || view === 'trends')) element.setAttribute('agent', agent);
    document.body.append(element);
  }
  if (data.theme === 'light' || data.theme === 'dark') element.setAttribute('theme', data.theme);
  element.token = data.token;
});

// Nothing secret in it: any parent may learn that the frame loaded.
if (parent !== window) parent.postMessage({ type: 'sonde-embed-ready', view }, '*');
