import { prefixFrom, register } from '../../internal/register.js';
import { SondeUsers } from './users.component.js';

export { SondeUsers };
/** Registers <sonde-users> alone (or under the prefix from this module's `?prefix=`). */
register({ users: SondeUsers }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-users': SondeUsers;
  }
}
