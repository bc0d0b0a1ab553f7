/** Kept equal to package.json's version by the build (scripts/build.mjs checks it). */
export const VERSION = '0.1.0';
