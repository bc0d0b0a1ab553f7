/**
 * The bundle (`dist/sonde.js`): every element, registered on load under the
 * prefix from `sonde.js?prefix=…` (default `sonde`). Loading it twice, or
 * next to another version, does not throw.
 */
import { defineSonde, prefixFrom } from './define.js';

export * from './index.js';
defineSonde({ prefix: prefixFrom(import.meta.url) });
