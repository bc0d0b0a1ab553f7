import { prefixFrom, register } from '../../internal/register.js';
import { SondeConnectedApps } from './connected-apps.component.js';

export { SondeConnectedApps };
/** Registers <sonde-connected-apps> alone (or under the prefix from this module's `?prefix=`). */
register({ 'connected-apps': SondeConnectedApps }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-connected-apps': SondeConnectedApps;
  }
}
