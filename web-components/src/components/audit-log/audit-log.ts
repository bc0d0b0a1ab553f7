import { prefixFrom, register } from '../../internal/register.js';
import { SondeAuditLog } from './audit-log.component.js';

export { SondeAuditLog };
/** Registers <sonde-audit-log> alone (or under the prefix from this module's `?prefix=`). */
register({ 'audit-log': SondeAuditLog }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-audit-log': SondeAuditLog;
  }
}
