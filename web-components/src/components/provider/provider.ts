import { prefixFrom, register } from '../../internal/register.js';
import { SondeProvider } from './provider.component.js';

export { SondeProvider };
/** Registers <sonde-provider> alone (or under the prefix from this module's `?prefix=`). */
register({ provider: SondeProvider }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-provider': SondeProvider;
  }
}
