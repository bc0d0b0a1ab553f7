import type { Command } from 'commander';
import { action, emit, type JsonOption } from '../cli/output.js';
import { agentVersion } from '../version.js';

/**
 * Self-update needs signed agent releases to verify what it would install;
 * until they exist it says so and changes nothing (exit 0: not a failure).
 */
export function registerUpdate(program: Command): void {
  program
    .command('update')
    .description('Self-update the agent (not available until signed releases land; prints how to update with npm)')
    .option('--json', 'print as JSON')
    .action(
      action((options: JsonOption) => {
        emit(
          options,
          { ok: true, available: false, version: agentVersion(), reason: 'self-update is not available until signed agent releases land' },
          [
            `sonde ${agentVersion()}: self-update is not available until signed agent releases land.`,
            'Update with your package manager meanwhile: npm install -g @sonde/agent@latest, then restart the service.',
          ],
        );
      }),
    );
}
