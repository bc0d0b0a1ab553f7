import type { Command } from 'commander';
import { cliContext } from '../cli/context.js';
import { action, emit, type JsonOption } from '../cli/output.js';
import { isEnrolled, readIdentity } from '../identity/state.js';
import { listPacks } from '../packs/store.js';
import { loadAgentTrust } from '../packs/trust.js';
import { isolationFor } from '../runtime/isolation.js';
import { readLiveStatus } from '../runtime/status-file.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show enrollment, hub, agent id, whether the running agent is connected, packs and isolation')
    .option('--json', 'print as JSON')
    .action(
      action(async (options: JsonOption) => {
        const { paths, config, packsDir } = cliContext();
        const enrolled = isEnrolled(paths);
        const identity = enrolled ? readIdentity(paths) : undefined;
        const live = readLiveStatus(paths.status);
        const running = Boolean(live?.alive && live.status.running);
        const packs =
          running && live
            ? live.status.packs
            : (await listPacks(paths, packsDir, loadAgentTrust(paths))).map(({ name, version, state, reason }) => ({
                name,
                version,
                state,
                reason,
              }));
        const data = {
          home: paths.home,
          enrolled,
          hub: identity?.hubUrl ?? null,
          wsUrl: identity?.wsUrl ?? null,
          agentId: identity?.agentId ?? null,
          name: identity?.name ?? null,
          running,
          pid: running ? live?.status.pid : null,
          connected: running && Boolean(live?.status.connected),
          registered: running && Boolean(live?.status.registered),
          lastRegisteredAt: live?.status.lastRegisteredAt ?? null,
          lastError: live?.status.lastError ?? null,
          rejectedFrames: live?.status.rejectedFrames ?? 0,
          isolation: running && live ? live.status.isolation : isolationFor(config),
          packs,
        };
        emit(options, data, [
          `home:       ${data.home}`,
          `enrolled:   ${enrolled ? 'yes' : 'no (run sonde enroll --hub <url> --token <token>)'}`,
          ...(identity ? [`hub:        ${identity.hubUrl}`, `agent:      ${identity.name} (${identity.agentId})`] : []),
          `running:    ${running ? `yes (pid ${data.pid})` : 'no'}`,
          `connected:  ${data.connected ? (data.registered ? 'yes, registered' : 'yes, registering') : 'no'}${data.lastError ? ` (last error: ${data.lastError})` : ''}`,
          `isolation:  ${data.isolation}`,
          `packs:      ${packs.length === 0 ? 'none (sonde packs scan)' : ''}`,
          ...packs.map((pack) => `  ${pack.name} ${pack.version} ${pack.state}${pack.reason ? `: ${pack.reason}` : ''}`),
        ]);
      }),
    );
}
