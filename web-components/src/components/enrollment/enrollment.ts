import { prefixFrom, register } from '../../internal/register.js';
import { SondeEnrollment } from './enrollment.component.js';

export { SondeEnrollment };
/** Registers <sonde-enrollment> alone (or under the prefix from this module's `?prefix=`). */
register({ enrollment: SondeEnrollment }, { prefix: prefixFrom(import.meta.url) });
declare global {
  interface HTMLElementTagNameMap {
    'sonde-enrollment': SondeEnrollment;
  }
}
