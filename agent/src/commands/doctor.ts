import { existsSync } from 'node:fs';
import path from 'node:path';
import { PackManifestSchema } from '@sonde/pack-sdk';
import type { Command } from 'commander';
import { detectOsSandbox, detectSetpriv } from '@sonde/pack-sdk/sandbox';
import { cliContext } from '../cli/context.js';
import { action, emit, type JsonOption } from '../cli/output.js';
import { AgentError, ExitCodes } from '../errors.js';
import { readJsonFile } from '../home.js';
import {
  diagnose,
  gatherPackFacts,
  gatherSysctls,
  gatherUser,
  processGroups,
  renderReport,
  type AgentFacts,
  type DoctorFacts,
  type IsolationFacts,
  type PackFacts,
  type TrustFacts,
} from '../packs/doctor.js';
import { readSources } from '../packs/install.js';
import { resolvePacks, storedPackages, type PackListing } from '../packs/store.js';
import { loadAgentTrust, trustFiles } from '../packs/trust.js';
import { readLiveStatus } from '../runtime/status-file.js';

/** The pack name its (unverified) sonde-pack.json claims: only to label a pack that cannot be verified. */
function claimedName(dir: string): string | undefined {
  try {
    const parsed = PackManifestSchema.safeParse(readJsonFile(path.join(dir, 'sonde-pack.json')));
    return parsed.success ? parsed.data.name : undefined;
  } catch {
    return undefined;
  }
}

/** Reads every fact the diagnosis needs; nothing is written. */
async function gatherFacts(only: string | undefined): Promise<DoctorFacts> {
  const { paths, config, packsDir } = cliContext();
  const file = trustFiles(paths).store;
  const trust: TrustFacts = { ok: true, storeExists: existsSync(file), file };
  const sources = readSources(packsDir);
  const packs: PackFacts[] = [];
  let loaded;
  try {
    loaded = loadAgentTrust(paths);
  } catch (error) {
    trust.ok = false;
    trust.reason = error instanceof AgentError ? (error.detail ?? error.message) : (error as Error).message;
  }
  if (loaded) {
    for (const { listing, serving, candidate } of await resolvePacks(paths, packsDir, loaded)) {
      packs.push(gatherPackFacts(listing, (serving ?? candidate)?.manifest, sources[listing.packageName]));
    }
  } else {
    // Nothing verifies without trust: list what is stored, unverified and unread.
    for (const stored of storedPackages(packsDir)) {
      const newest = stored.versions[0];
      if (!newest) continue;
      const name = claimedName(newest.dir) ?? stored.packageName.replace(/^@[^/]+\//, '').replace(/^pack-/, '');
      const listing: PackListing = {
        name,
        packageName: stored.packageName,
        version: newest.version,
        state: 'failed',
        dir: newest.dir,
        versions: stored.versions.map((entry) => entry.version),
      };
      packs.push(gatherPackFacts(listing, undefined, sources[stored.packageName]));
    }
  }
  const selected = only ? packs.filter((pack) => pack.listing.name === only || pack.listing.packageName === only) : packs;
  if (only && selected.length === 0) throw new AgentError('SONDE_ERR_PACK_NOT_FOUND', `"${only}" is not installed in ${packsDir}.`);

  const live = readLiveStatus(paths.status);
  const agent: AgentFacts = { running: Boolean(live?.alive), packs: live?.alive ? live.status.packs : [] };
  if (live?.alive) {
    agent.pid = live.status.pid;
    agent.isolation = live.status.isolation;
    const groups = processGroups(live.status.pid);
    if (groups) agent.groups = groups;
  }

  const isolation: IsolationFacts = {
    mode: config.sandbox.mode,
    namespaces: config.sandbox.namespaces,
    userNamespaces: config.sandbox.mode === 'process' ? detectOsSandbox() !== null : false,
    unshareFound: ['/usr/bin/unshare', '/bin/unshare'].some((candidate) => existsSync(candidate)),
    setprivWorks: detectSetpriv() !== null,
    sysctl: gatherSysctls(),
  };
  return { user: gatherUser(), agent, isolation, trust, packs: selected };
}

export function registerPacksDoctor(packs: Command): void {
  packs
    .command('doctor [pack]')
    .description(
      'Why a pack is pending, failing or degraded (approval, signature, missing binary, missing group, unreadable files, sandbox) and the exact command that fixes it',
    )
    .option('--json', 'print as JSON: { ok, severity, user, host, packs: [{ name, state, findings }], findings }')
    .action(
      action(async (name: string | undefined, options: JsonOption) => {
        const report = diagnose(await gatherFacts(name));
        emit(options, report, renderReport(report));
        if (!report.ok) process.exitCode = ExitCodes.PACK_ERROR;
      }),
    );
}
