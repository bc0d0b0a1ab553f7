import { prefixFrom, register } from '../../internal/register.js';
import { SondeProbe } from './probe.component.js';

export { SondeProbe };
/** Registers <sonde-probe> alone (or under the prefix from this module's `?prefix=`). */
register({ probe: SondeProbe }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-probe': SondeProbe;
  }
}
