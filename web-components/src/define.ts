import { ELEMENTS } from './elements.js';
import { register, type DefineOptions } from './internal/register.js';

export { prefixFrom, type DefineOptions } from './internal/register.js';

/** Registers every Sonde element (see `register` for the rules on tags already taken). */
export function defineSonde(options: DefineOptions = {}): string[] {
  return register(ELEMENTS, options);
}
