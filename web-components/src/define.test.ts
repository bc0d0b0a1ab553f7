// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineSonde, prefixFrom } from './define.js';
import { SondeFleet } from './components/fleet/fleet.component.js';
import { register } from './internal/register.js';

afterEach(() => vi.restoreAllMocks());

describe('defineSonde', () => {
  it('registers every element under a prefix, and a second call (a second copy of the bundle) neither throws nor warns', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const first = defineSonde({ prefix: 'twice' });
    expect(first).toContain('twice-fleet');
    expect(first).toContain('twice-app');
    expect(defineSonde({ prefix: 'twice' })).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
    expect(document.createElement('twice-fleet')).toBeInstanceOf(SondeFleet);
  });

  it('keeps a tag another version holds and warns', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    class Older extends HTMLElement {
      static sondeVersion = '0.0.1';
    }
    customElements.define('older-fleet', Older);
    expect(register({ fleet: SondeFleet }, { prefix: 'older' })).toEqual([]);
    expect(customElements.get('older-fleet')).toBe(Older);
    expect(warn.mock.calls[0]?.[0]).toContain('version 0.0.1');
  });

  it('gives each prefix its own class and lets elements name siblings by prefix', () => {
    register({ fleet: SondeFleet }, { prefix: 'one' });
    register({ fleet: SondeFleet }, { prefix: 'two' });
    const one = document.createElement('one-fleet') as SondeFleet;
    const two = document.createElement('two-fleet') as SondeFleet;
    expect(customElements.get('one-fleet')).not.toBe(customElements.get('two-fleet'));
    expect(one.tagFor('agent')).toBe('one-agent');
    expect(two.tagFor('agent')).toBe('two-agent');
  });

  it('refuses an invalid prefix and reads one from the module URL', () => {
    expect(() => defineSonde({ prefix: 'Bad Prefix' })).toThrow(/Invalid tag prefix/);
    expect(prefixFrom('https://hub.example/ui/sonde.js?prefix=acme')).toBe('acme');
    expect(prefixFrom('https://hub.example/ui/sonde.js')).toBeUndefined();
  });
});
