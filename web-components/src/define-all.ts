/**
 * `dist/define.js` (lit kept external, for bundlers): every element, registered on load under the
 * prefix from `sonde.js?prefix=…` (default `sonde`). Loading it twice, or
 * next to another version, does not throw.
 */
import { defineSonde, prefixFrom } from './define.js';

defineSonde({ prefix: prefixFrom(import.meta.url) });
