import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { homePaths } from '../home.js';
import { readIdentity } from '../identity/state.js';
import { refuseRoot } from '../root-guard.js';
import { action, type JsonOption } from '../cli/output.js';

interface StartOptions extends JsonOption {
  jsonLogs?: boolean;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('Run the agent in the foreground (for systemd): connect out to the hub and serve probes')
    .option('--json-logs', 'log one JSON object per line')
    .option('--json', 'same as --json-logs')
    .action(
      action(async (options: StartOptions) => {
        refuseRoot();
        const paths = homePaths();
        readIdentity(paths);
        const config = loadConfig(paths);
        // The host's sandbox layers are probed by starting `true` in namespaces (bwrap, unshare, setpriv): begun
        // now, the probes run beside the module loading below instead of blocking the start afterwards.
        if (config.sandbox.mode === 'process' && config.sandbox.namespaces !== 'none') {
          const { prepareOsSandbox } = await import('@sonde/pack-sdk/sandbox/isolation');
          void prepareOsSandbox();
        }
        const { createLogger } = await import('../runtime/logger.js');
        const { startAgent } = await import('../runtime/agent.js');
        const log = createLogger({ json: Boolean(options.jsonLogs ?? options.json), level: config.logLevel });
        // A pack could signal its own process; never let SIGUSR1 open an inspector here.
        process.on('SIGUSR1', () => log.warn('ignored SIGUSR1 (the inspector stays closed)'));
        const agent = await startAgent(paths, log);
        await new Promise<void>((resolve) => {
          const stop = (signal: NodeJS.Signals): void => {
            log.info({ signal }, 'stopping');
            void agent.stop().then(resolve);
          };
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
        });
      }),
    );
}
