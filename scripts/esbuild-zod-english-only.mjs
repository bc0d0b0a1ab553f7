// An esbuild plugin the hub's and the agent's bundles share (hub/scripts/bundle.mjs, agent/scripts/bundle.mjs).
import path from 'node:path';

/**
 * zod's `z.locales` namespace holds every language's error messages (~360 KB of JavaScript each bundle would read and
 * compile at start); a namespace export keeps them all in a bundle. The hub's and the agent's messages are English,
 * the locale zod itself registers by default (`classic/schemas.js` imports `locales/en.js` directly), and no code of
 * theirs (nor pack-sdk's or registry's) selects another: inside these bundles `z.locales` has `en` only, and
 * `z.locales.xx()` for another language would throw. Not for the pack-process bundle: its zod is the one packs
 * import, whose whole API they may use.
 */
export const zodEnglishOnly = {
  name: 'sonde-zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: path.join(path.dirname(args.importer), '..', 'locales', 'en-only.js'), namespace: 'sonde-zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'sonde-zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};
