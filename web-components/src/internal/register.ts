import type { SondeElement } from './sonde-element.js';
import { VERSION } from '../version.js';

export interface DefineOptions {
  /** Tag prefix (default `sonde`): `acme` registers `<acme-fleet>` for hosts that already use `sonde-`. */
  prefix?: string;
  /** A scoped CustomElementRegistry (where the browser has them); default the global one. */
  registry?: CustomElementRegistry;
  /** Only these elements (tag suffixes, e.g. `fleet`); default all. */
  only?: string[];
}

type Registered = CustomElementConstructor & { sondeVersion?: string };

/**
 * Registers the elements. Safe to call again, from a second copy of the
 * bundle or another version: a tag already taken is left alone (a warning
 * when the version differs), so a page never throws on a double load.
 * Each tag gets its own subclass: one class may not hold two tags, and two
 * prefixes on one page are allowed.
 */
export function register(elements: Record<string, typeof SondeElement>, options: DefineOptions = {}): string[] {
  const prefix = options.prefix ?? 'sonde';
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(prefix)) throw new TypeError(`Invalid tag prefix "${prefix}".`);
  const registry = options.registry ?? globalThis.customElements;
  if (!registry) return [];
  const defined: string[] = [];
  for (const [suffix, element] of Object.entries(elements)) {
    if (options.only && !options.only.includes(suffix)) continue;
    const tag = `${prefix}-${suffix}`;
    const existing: Registered | undefined = registry.get(tag);
    if (existing) {
      if (existing.sondeVersion !== VERSION)
        console.warn(
          `sonde: <${tag}> is already defined by ${existing.sondeVersion ? `version ${existing.sondeVersion}` : 'another library'}; keeping it (this is ${VERSION}).`,
        );
      continue;
    }
    const Tagged = class extends element {};
    Tagged.sondePrefix = prefix;
    registry.define(tag, Tagged);
    defined.push(tag);
  }
  return defined;
}

/** The prefix asked for by the module URL (`sonde.js?prefix=acme`) or `window.SondeConfig.prefix`. */
export function prefixFrom(moduleUrl: string): string | undefined {
  try {
    const fromUrl = new URL(moduleUrl).searchParams.get('prefix');
    if (fromUrl) return fromUrl;
  } catch {
    // not a URL (tests): fall through
  }
  const config = (globalThis as { SondeConfig?: { prefix?: unknown } }).SondeConfig;
  return typeof config?.prefix === 'string' ? config.prefix : undefined;
}
