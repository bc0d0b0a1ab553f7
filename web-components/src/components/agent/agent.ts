import { prefixFrom, register } from '../../internal/register.js';
import { SondeAgent } from './agent.component.js';

export { SondeAgent };
/** Registers <sonde-agent> alone (or under the prefix from this module's `?prefix=`). */
register({ agent: SondeAgent }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-agent': SondeAgent;
  }
}
