import { prefixFrom, register } from '../../internal/register.js';
import { SondeIntegrations } from './integrations.component.js';

export { SondeIntegrations };
/** Registers <sonde-integrations> alone (or under the prefix from this module's `?prefix=`). */
register({ integrations: SondeIntegrations }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-integrations': SondeIntegrations;
  }
}
