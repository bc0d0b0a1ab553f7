import { prefixFrom, register } from '../../internal/register.js';
import { SondeTrends } from './trends.component.js';

export { SondeTrends };
/** Registers <sonde-trends> alone (or under the prefix from this module's `?prefix=`). */
register({ trends: SondeTrends }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-trends': SondeTrends;
  }
}
