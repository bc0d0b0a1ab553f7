import { prefixFrom, register } from '../../internal/register.js';
import { SondeFleet } from './fleet.component.js';

export { SondeFleet };
/** Registers <sonde-fleet> alone (or under the prefix from this module's `?prefix=`). */
register({ fleet: SondeFleet }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-fleet': SondeFleet;
  }
}
