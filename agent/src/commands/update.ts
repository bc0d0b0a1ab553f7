import path from 'node:path';
import type { Command } from 'commander';
import { cliContext } from '../cli/context.js';
import { action, emit, type JsonOption } from '../cli/output.js';
import { isEnrolled, readIdentity } from '../identity/state.js';
import { refuseRoot } from '../root-guard.js';
import { readLiveStatus } from '../runtime/status-file.js';
import { releaseLayout } from '../self-update/layout.js';
import { selfUpdate, type SelfUpdateResult } from '../self-update/update.js';
import { agentPackageRoot, agentVersion } from '../version.js';

interface UpdateOptions extends JsonOption {
  check?: boolean;
  retry?: boolean;
  allowDowngrade?: boolean;
  trust?: string;
  restart?: boolean;
  selfTest?: boolean;
}

/**
 * `sonde update [version|range|tag|release.tgz]`: the agent's self-update,
 * under the same trust as packs (see agent/README.md, "Self-update"). Exit 0
 * when updated, already current, skipped or (with --check) when an update
 * would happen; 9 when refused or failed, with `current` untouched.
 */
export function registerUpdate(program: Command): void {
  program
    .command('update')
    .description(
      'Self-update: fetch a signed @sonde/agent release (npm pack), verify it against SONDE_HOME/trust.json, install it side by side under SONDE_HOME/releases/ and switch releases/current after a health check',
    )
    .argument('[target]', 'version, range or dist-tag of @sonde/agent, or a path to a release .tgz (default: latest)')
    .option('--check', 'fetch and verify, report what would happen, change nothing')
    .option('--retry', 'try a version that failed before (recorded in SONDE_HOME/update-state.json)')
    .option('--allow-downgrade', 'accept a version older than the current one')
    .option('--trust <file>', 'trust store (default SONDE_HOME/trust.json; SONDE_HOME/revocations.json is applied when present)')
    .option('--restart', 'after switching, stop the running agent so its service manager starts the new version (systemd Restart=always)')
    .option('--self-test', 'health check used on a new version before it becomes current: load config and identity, print the version')
    .option('--json', 'print as JSON')
    .action(
      action(async (target: string | undefined, options: UpdateOptions) => {
        refuseRoot();
        if (options.selfTest) return selfTest(options);
        const { paths } = cliContext();
        const result = await selfUpdate({
          paths,
          target,
          check: Boolean(options.check),
          retry: Boolean(options.retry),
          allowDowngrade: Boolean(options.allowDowngrade),
          runningVersion: agentVersion(),
          ...(options.trust ? { trustFile: path.resolve(options.trust) } : {}),
        });
        const layout = releaseLayout(paths);
        const runningFrom = safeRoot();
        const fromReleases = runningFrom !== undefined && path.dirname(runningFrom) === layout.releases;
        let restarted: number | undefined;
        if (options.restart && result.action === 'updated') {
          const live = readLiveStatus(paths.status);
          if (live?.alive && live.status.running) {
            process.kill(live.status.pid, 'SIGTERM');
            restarted = live.status.pid;
          }
        }
        emit(
          options,
          { ...result, runningFrom: runningFrom ?? null, ...(restarted ? { restarted } : {}) },
          lines(result, layout.current, fromReleases, restarted),
        );
      }),
    );
}

function safeRoot(): string | undefined {
  try {
    return agentPackageRoot();
  } catch {
    return undefined;
  }
}

function lines(result: SelfUpdateResult, current: string, fromReleases: boolean, restarted: number | undefined): string[] {
  const signer = result.keyId ? ` (signed by ${result.publisher ?? 'key'} ${result.keyId} at ${result.publishedAt})` : '';
  switch (result.action) {
    case 'up-to-date':
      return [`sonde ${result.from} is current; ${result.to} is the newest release found${signer}.`];
    case 'skipped':
      return [`skipped ${result.to}: ${result.reason}`, `current: ${result.current ?? 'none (no release layout yet)'}`];
    case 'would-update':
      return [`would update ${result.from} → ${result.to}${signer}; integrity ${result.integrity}`, 'run without --check to install it'];
    case 'updated':
      return [
        `updated ${result.from} → ${result.to}${signer}`,
        `installed in ${result.releaseDir} (dependencies: ${result.dependencies}); ${current} → ${result.to}`,
        ...(restarted
          ? [`stopped the running agent (pid ${restarted}); its service manager starts ${result.to}`]
          : ['restart the agent to run it: sudo systemctl restart sonde (or pass --restart)']),
        ...(fromReleases
          ? []
          : [
              `note: this sonde runs from outside ${path.dirname(current)}; point the service at ${current}/dist/cli.js (agent/INSTALL.md)`,
            ]),
      ];
  }
}

function selfTest(options: UpdateOptions): void {
  const { paths, config } = cliContext();
  const enrolled = isEnrolled(paths);
  if (enrolled) readIdentity(paths);
  emit(
    options,
    { ok: true, version: agentVersion(), node: process.version, home: paths.home, enrolled, logLevel: config.logLevel },
    `sonde ${agentVersion()} self-test ok (node ${process.version}, home ${paths.home}, enrolled: ${enrolled ? 'yes' : 'no'})`,
  );
}
