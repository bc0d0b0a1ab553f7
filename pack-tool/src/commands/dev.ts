import { EXIT_FAILED, type Io } from '../output.js';

/**
 * Not built yet: watching, rebuilding and hot-installing into a local agent.
 * The command exists so `npm run dev` in a new pack says what to do instead
 * of "unknown command".
 */
export const devCommand = {
  name: 'dev',
  usage: 'sonde-pack dev',
  summary: 'not built yet: watch, rebuild and hot-install into a local agent (prints the manual steps)',
  run(_argv: string[], io: Io): Promise<number> {
    io.err(
      [
        'sonde-pack dev is not built yet. The same loop by hand, against the agent of `npm start` in a Sonde checkout:',
        '  npm run sign                                         build, validate, sign → ./<package>-<version>.tgz',
        '  sonde trust add-key ~/.config/sonde/publisher.pub.json   once per publisher key',
        '  sonde packs install ./<package>-<version>.tgz',
        '  sonde packs approve <pack>                           the running agent reloads; the probe is an MCP tool',
        'A changed pack needs a new version in package.json: an installed version never changes.',
      ].join('\n'),
    );
    return Promise.resolve(EXIT_FAILED);
  },
};
