import type { Command } from 'commander';
import { HubError } from '../errors.js';
import type { HubCore } from '../core.js';
import type { AgentRecord } from '../store/types.js';
import { cliActor, withCore } from './admin.js';
import { print } from './output.js';

async function recordOf(core: HubCore, idOrName: string): Promise<AgentRecord> {
  const record = (await core.store.agents.getById(idOrName)) ?? (await core.store.agents.getByName(idOrName));
  if (!record) throw new HubError('SONDE_ERR_AGENT_NOT_FOUND', `No agent with id or name "${idOrName}".`);
  return record;
}

/** What the database knows; live status (connected, OS, isolation) is the running hub's: GET /api/v1/agents. */
function agentView(r: AgentRecord) {
  return {
    id: r.id,
    name: r.name,
    enrolledAt: r.enrolledAt,
    lastSeenAt: r.lastSeenAt,
    agentVersion: r.agentVersion,
    removedAt: r.removedAt,
    degradedReasons: r.degradedReasons,
    certSerial: r.certSerial,
    certNotAfter: r.certNotAfter,
    packs: r.packs.map((p) => ({ name: p.name, version: p.version, state: p.state, pending: p.pending?.version ?? null })),
    pendingAttestation: r.pendingAttestation !== null,
  };
}

function agentLine(r: AgentRecord): string {
  const state = r.removedAt ? `removed ${r.removedAt}` : r.degradedReasons.length ? 'degraded' : 'enrolled';
  const packs = r.packs.map((p) => `${p.name}@${p.version}:${p.state}${p.pending ? ` (${p.pending.version} pending)` : ''}`).join(' ');
  return `${r.id}  ${r.name}  ${state}  last seen ${r.lastSeenAt ?? 'never'}${packs ? `  ${packs}` : ''}`;
}

/**
 * `sonde-hub agents …`: the REST agent commands that work on the database
 * (safe while the hub runs; the running hub notices the write within a
 * second and drops a removed agent's session). Approving a pending pack goes to the agent over its live
 * connection: `sonde-hub packs approve` (cli/packs.ts) asks the running hub.
 */
export function registerFleetCommands(program: Command): void {
  const agents = program.command('agents').description('Enrolled agents: list, show, remove, accept a changed attestation');

  agents
    .command('list')
    .description('List agents as the database records them (removed ones with --all)')
    .option('--all', 'include removed agents')
    .option('--json', 'print JSON')
    .action(async (options: { all?: boolean; json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const list = (await core.store.agents.list()).filter((r) => options.all || !r.removedAt);
        print(json, list.map(agentView), () => (list.length ? list.map(agentLine).join('\n') : 'no agents'));
      });
    });

  agents
    .command('show <idOrName>')
    .description('One agent: certificate, packs (and pending versions), degraded reasons')
    .option('--json', 'print JSON')
    .action(async (idOrName: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const record = await recordOf(core, idOrName);
        const view = agentView(record);
        print(json, view, () =>
          [
            agentLine(record),
            `certificate ${record.certSerial ?? 'none'}${record.certNotAfter ? ` until ${record.certNotAfter}` : ''}`,
            ...record.degradedReasons.map((reason) => `degraded: ${reason}`),
            ...(view.pendingAttestation ? [`changed attestation waiting: sonde-hub agents accept-attestation ${record.name}`] : []),
            ...record.packs
              .filter((p) => p.pending)
              .map(
                (p) =>
                  `pack ${p.name} ${p.pending?.version ?? ''} awaits approval (permissions ${p.pending?.permissionsSha256 ?? ''}): sonde-hub packs approve ${record.name} ${p.name} --version ${p.pending?.version ?? ''} --permissions ${p.pending?.permissionsSha256 ?? ''}`,
              ),
          ].join('\n'),
        );
      });
    });

  agents
    .command('remove <idOrName>')
    .description(
      'Revoke the agent’s certificate and key; a connected agent is dropped at once (the running hub sees the write within a second). The record stays',
    )
    .option('--json', 'print JSON')
    .action(async (idOrName: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const record = await recordOf(core, idOrName);
        if (record.removedAt) throw new HubError('SONDE_ERR_CONFLICT', `Agent ${record.name} was already removed at ${record.removedAt}.`);
        const at = new Date().toISOString();
        await core.store.transaction(async (tx) => {
          await tx.agents.remove(record.id, at);
          await tx.apiKeys.revokeForAgent(record.id, at);
          await core.audit.append(
            {
              action: 'agent.remove',
              actor: cliActor(),
              agents: [record.name],
              status: 'ok',
              detail: record.certSerial ? `cert ${record.certSerial} revoked` : null,
            },
            tx,
          );
        });
        print(json, { removed: record.id, name: record.name }, () => `removed ${record.name} (${record.id}); its certificate is revoked`);
      });
    });

  agents
    .command('accept-attestation <idOrName>')
    .description('Accept an agent’s changed attestation as its new baseline and clear the degraded mark')
    .option('--json', 'print JSON')
    .action(async (idOrName: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const record = await recordOf(core, idOrName);
        await core.store.transaction(async (tx) => {
          await tx.agents.acceptAttestation(record.id);
          await core.audit.append(
            {
              action: 'agent.accept_attestation',
              actor: cliActor(),
              agents: [record.name],
              status: 'ok',
              detail: record.degradedReasons.join('; ') || null,
            },
            tx,
          );
        });
        print(json, { id: record.id, name: record.name }, () => `${record.name}: attestation accepted, degraded mark cleared`);
      });
    });
}
