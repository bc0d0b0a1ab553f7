import { resolve } from 'node:path';
import type { PackStatus } from '@sonde/pack-sdk/protocol';
import type { Command } from 'commander';
import type { IntegrationPackView, PermissionDiff } from '../routes/integrations.js';
import { fail, print } from './output.js';
import { remoteHub, type RemoteHub, type RemoteOptions } from './remote.js';

interface AgentView {
  id: string;
  name: string;
  connected: boolean;
  packs: PackStatus[];
}

interface PendingAgentPack {
  agent: string;
  connected: boolean;
  pack: string;
  serving: string | null;
  version: string;
  permissionsSha256: string;
  added: string[];
  approve: string;
}

/** Runs one command against the running hub; every failure is one `sonde-hub: CODE: …` line and an exit code. */
async function withHub(options: RemoteOptions & { json?: boolean }, fn: (hub: RemoteHub, json: boolean) => Promise<void>) {
  const json = options.json ?? false;
  try {
    await fn(await remoteHub(options, json), json);
  } catch (error) {
    fail(error, json);
  }
}

const hubUrlOption = [
  '--hub-url <url>',
  'the running hub (default SONDE_PUBLIC_URL, else the address it recorded at its last start)',
] as const;

function pendingOf(agents: AgentView[]): PendingAgentPack[] {
  return agents.flatMap((agent) =>
    agent.packs.flatMap((pack) =>
      pack.pending
        ? [
            {
              agent: agent.name,
              connected: agent.connected,
              pack: pack.name,
              serving: pack.state === 'active' ? pack.version : null,
              version: pack.pending.version,
              permissionsSha256: pack.pending.permissionsSha256,
              added: pack.pending.added,
              approve: `sonde-hub packs approve ${agent.name} ${pack.name} --version ${pack.pending.version} --permissions ${pack.pending.permissionsSha256}`,
            },
          ]
        : [],
    ),
  );
}

function diffLines(diff: PermissionDiff): string[] {
  return [...diff.added.map((c) => `    + ${c.description}`), ...diff.removed.map((c) => `    - ${c.description}`)];
}

/**
 * `sonde-hub packs …` (system packs on agents) and `sonde-hub integrations …`
 * (integration packs on the hub): the approval loop from a terminal, through
 * the running hub's REST API with SONDE_API_KEY.
 */
export function registerPackCommands(program: Command): void {
  const packs = program
    .command('packs')
    .description('System packs on agents: what waits for approval, approve or reject it (through the running hub; SONDE_API_KEY)');

  packs
    .command('pending')
    .description('Every agent pack version waiting for approval, with what it adds and the exact approve command')
    .option(...hubUrlOption)
    .option('--json', 'print JSON')
    .action(async (options: RemoteOptions & { json?: boolean }) =>
      withHub(options, async (hub, json) => {
        const pending = pendingOf(await hub.request<AgentView[]>('GET', '/api/v1/agents'));
        print(json, pending, () =>
          pending.length
            ? pending
                .map((p) =>
                  [
                    `${p.agent}${p.connected ? '' : ' (offline)'}  ${p.pack}  ${p.serving ? `${p.serving} → ` : ''}${p.version}  permissions ${p.permissionsSha256}`,
                    ...(p.added.length ? p.added.map((line) => `    + ${line}`) : ['    (asks for nothing the serving version lacks)']),
                    `  approve: ${p.approve}`,
                    `  reject:  ${p.approve.replace('packs approve', 'packs reject')}`,
                  ].join('\n'),
                )
                .join('\n')
            : 'no agent pack waits for approval',
        );
      }),
    );

  const decision = (verb: 'approve' | 'reject', description: string, done: string): void => {
    packs
      .command(`${verb} <agent> <pack>`)
      .description(description)
      .requiredOption('--version <version>', 'the pending version you reviewed (sonde-hub packs pending)')
      .requiredOption('--permissions <sha256>', 'the permissions digest you reviewed (sonde-hub packs pending)')
      .option(...hubUrlOption)
      .option('--json', 'print JSON')
      .action(async (agent: string, pack: string, options: RemoteOptions & { version: string; permissions: string; json?: boolean }) =>
        withHub(options, async (hub, json) => {
          const result = await hub.request<{ agent: string; pack: string; version: string }>(
            'POST',
            `/api/v1/agents/${encodeURIComponent(agent)}/packs/${encodeURIComponent(pack)}/${verb}`,
            { version: options.version, permissionsSha256: options.permissions },
          );
          print(json, result, () => `${result.agent}: ${result.pack} ${result.version} ${done}`);
        }),
      );
  };
  decision(
    'approve',
    'Approve the pending version you reviewed; the agent applies it only if version and permissions digest still match',
    'approved; the agent serves it now',
  );
  decision(
    'reject',
    'Reject the pending version you reviewed; the agent never loads it and refuses it until another version arrives',
    'rejected; a serving version keeps serving',
  );

  const integrations = program
    .command('integrations')
    .description('Integration packs on the hub: list, install, approve, remove (through the running hub; SONDE_API_KEY)');

  integrations
    .command('list')
    .description('Integration packs with their state, serving version and any pending permission diff')
    .option(...hubUrlOption)
    .option('--json', 'print JSON')
    .action(async (options: RemoteOptions & { json?: boolean }) =>
      withHub(options, async (hub, json) => {
        const list = await hub.request<IntegrationPackView[]>('GET', '/api/v1/integrations/packs');
        print(json, list, () =>
          list.length
            ? list
                .map((p) =>
                  [
                    `${p.name}  ${p.state}  serving ${p.activeVersion ?? 'nothing'}${p.instances.length ? `  instances ${p.instances.join(', ')}` : ''}`,
                    ...(p.refused ? [`  refused: ${p.refused.code}: ${p.refused.reason}`] : []),
                    ...(p.pending
                      ? [
                          `  ${p.pending.version} waits for approval${p.pending.diff.widened ? ' and asks for more' : ''}:`,
                          ...diffLines(p.pending.diff),
                          `  approve: sonde-hub integrations approve ${p.name} --version ${p.pending.version}`,
                        ]
                      : []),
                  ].join('\n'),
                )
                .join('\n')
            : 'no integration packs installed',
        );
      }),
    );

  integrations
    .command('install <specOrPath>')
    .description('Install or update from an npm spec, or a pack folder or .tgz on this machine; verified before anything is written')
    .option('--allow-downgrade', 'accept a version older than the one serving')
    .option(...hubUrlOption)
    .option('--json', 'print JSON')
    .action(async (target: string, options: RemoteOptions & { allowDowngrade?: boolean; json?: boolean }) =>
      withHub(options, async (hub, json) => {
        // A path (./x, /x, x.tgz) is read by the hub process, which runs on this machine: made absolute here.
        const isPath = /^[./]/.test(target) || target.endsWith('.tgz');
        const result = await hub.request<{ pack: IntegrationPackView; version: string; outcome: string; diff: PermissionDiff }>(
          'POST',
          '/api/v1/integrations/packs',
          { ...(isPath ? { path: resolve(target) } : { spec: target }), allowDowngrade: options.allowDowngrade ?? false },
        );
        print(json, result, () =>
          [
            `${result.pack.name} ${result.version}: ${result.outcome}`,
            ...(result.outcome === 'pending'
              ? [...diffLines(result.diff), `approve: sonde-hub integrations approve ${result.pack.name} --version ${result.version}`]
              : []),
          ].join('\n'),
        );
      }),
    );

  integrations
    .command('approve <name>')
    .description('Approve a pending version and the permissions it declares; it serves at once')
    .option('--version <version>', 'the version you reviewed (default: the newest pending one)')
    .option('--allow-downgrade', 'accept a version older than the one serving')
    .option(...hubUrlOption)
    .option('--json', 'print JSON')
    .action(async (name: string, options: RemoteOptions & { version?: string; allowDowngrade?: boolean; json?: boolean }) =>
      withHub(options, async (hub, json) => {
        const result = await hub.request<{ pack: IntegrationPackView; diff: PermissionDiff }>(
          'POST',
          `/api/v1/integrations/packs/${encodeURIComponent(name)}/approve`,
          { ...(options.version ? { version: options.version } : {}), allowDowngrade: options.allowDowngrade ?? false },
        );
        print(json, result, () => `${result.pack.name}: ${result.pack.activeVersion ?? ''} approved and serving`);
      }),
    );

  integrations
    .command('remove <name>')
    .description('Remove a pack: every version, its instances and their processes')
    .option(...hubUrlOption)
    .option('--json', 'print JSON')
    .action(async (name: string, options: RemoteOptions & { json?: boolean }) =>
      withHub(options, async (hub, json) => {
        const result = await hub.request<{ removed: string }>('DELETE', `/api/v1/integrations/packs/${encodeURIComponent(name)}`);
        print(json, result, () => `${result.removed} removed`);
      }),
    );
}
