import { prefixFrom, register } from '../../internal/register.js';
import { SondePacks } from './packs.component.js';

export { SondePacks };
/** Registers <sonde-packs> alone (or under the prefix from this module's `?prefix=`). */
register({ packs: SondePacks }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-packs': SondePacks;
  }
}
