import { prefixFrom, register } from '../../internal/register.js';
import { SondeHealthBadge } from './health-badge.component.js';

export { SondeHealthBadge };
/** Registers <sonde-health-badge> alone (or under the prefix from this module's `?prefix=`). */
register({ 'health-badge': SondeHealthBadge }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-health-badge': SondeHealthBadge;
  }
}
