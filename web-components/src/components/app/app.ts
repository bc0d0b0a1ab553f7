import { prefixFrom, register } from '../../internal/register.js';
import { SondeApp } from './app.component.js';

export { SondeApp };
/** Registers <sonde-app> alone (or under the prefix from this module's `?prefix=`). */
register({ app: SondeApp }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-app': SondeApp;
  }
}
