import { prefixFrom, register } from '../../internal/register.js';
import { SondeApiKeys } from './api-keys.component.js';

export { SondeApiKeys };
/** Registers <sonde-api-keys> alone (or under the prefix from this module's `?prefix=`). */
register({ 'api-keys': SondeApiKeys }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-api-keys': SondeApiKeys;
  }
}
