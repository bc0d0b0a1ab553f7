import type { Command } from 'commander';
import { cliContext } from '../cli/context.js';
import { action, emit, type JsonOption } from '../cli/output.js';
import { progressBar } from '../cli/progress.js';
import { AgentError } from '../errors.js';
import { ensureHome } from '../home.js';
import { registerPacksDoctor } from './doctor.js';
import { scan } from '../packs/detect.js';
import { recordPackEvent } from '../packs/events.js';
import { classifySource, installPack, pruneVersions, removePackFiles, updatePack, type UpdateResult } from '../packs/install.js';
import {
  approvalFor,
  findResolution,
  listPacks,
  preparePacksDir,
  readApprovals,
  readRejections,
  resolvePacks,
  writeApprovals,
  writeRejections,
  type PackListing,
} from '../packs/store.js';
import { readPackIndex } from '../packs/pack-index.js';
import { withRuntimeState } from '../packs/runtime-state.js';
import { readLiveStatus } from '../runtime/status-file.js';
import { loadAgentTrust } from '../packs/trust.js';
import { refuseRoot } from '../root-guard.js';

const RELOAD_HINT = 'A running agent applies approvals, updates and removals within seconds.';

function describe(listing: PackListing): string {
  const head = `${listing.name} ${listing.version} ${listing.state}${listing.reason ? ` (${listing.reason})` : ''}`;
  if (!listing.pending) return head;
  const pending = listing.pending;
  if (pending.refused) return `${head}\n  newer ${pending.version} refused: ${pending.refused.reason}`;
  return `${head}\n  ${pending.version} waits for approval; it adds: ${pending.added.join('; ') || 'nothing'} (sonde packs approve ${listing.name})`;
}

interface InstallOptions extends JsonOption {
  registry?: string;
  allowDowngrade?: boolean;
}

export function registerPacks(program: Command): void {
  const packs = program.command('packs').description('Manage signed packs in SONDE_HOME/packs (verified at install and at every load)');

  packs
    .command('list')
    .description('List installed packs: state (active, pending approval, failed), serving version and any update awaiting approval')
    .option('--json', 'print as JSON')
    .action(
      action(async (options: JsonOption) => {
        const { paths, packsDir } = cliContext();
        const list = withRuntimeState(await listPacks(paths, packsDir, loadAgentTrust(paths)), readLiveStatus(paths.status));
        emit(
          options,
          { packsDir, packs: list },
          list.length === 0 ? [`No packs in ${packsDir}. Try: sonde packs scan`] : list.map(describe),
        );
      }),
    );

  packs
    .command('scan')
    .description('Evaluate every known pack’s detection rules (commands on PATH, files, services) and suggest packs')
    .option('--json', 'print as JSON')
    .action(
      action(async (options: JsonOption) => {
        const { paths, packsDir } = cliContext();
        const installed = (await resolvePacks(paths, packsDir, loadAgentTrust(paths)))
          .map((resolution) => resolution.serving ?? resolution.candidate)
          .filter((pack) => pack !== undefined);
        const results = scan(installed);
        const suggested = results.filter((r) => r.matched.length > 0 && !r.installed);
        // What the organisation's signed index offers, newest allowed version first.
        const index = readPackIndex(paths);
        const installedNames = new Set(installed.map((pack) => pack.packageName));
        const available = Object.entries(index?.packs ?? {})
          .map(([packageName, versions]) => ({
            packageName,
            newest: versions.at(-1)?.version ?? null,
            installed: installedNames.has(packageName),
          }))
          .filter((entry) => entry.newest !== null);
        emit(options, { suggestions: suggested, results, index: index ? { serial: index.serial, available } : null }, [
          ...results.map(
            (r) =>
              `${r.matched.length > 0 ? (r.installed ? '✓ installed ' : '→ suggest   ') : '  no match  '} ${r.pack} (${r.packageName})${r.matched.length > 0 ? `: ${r.matched.join(', ')}` : ''}`,
          ),
          ...(index
            ? [
                `Pack index serial ${index.serial}:`,
                ...available.map((a) => `  ${a.installed ? '✓' : ' '} ${a.packageName} ${a.newest ?? ''}`),
              ]
            : []),
        ]);
      }),
    );

  packs
    .command('install <spec-or-dir...>')
    .description(
      'Install signed packs: an npm spec or .tgz (fetched with npm pack --ignore-scripts; .npmrc applies) or a signed folder. Verified before anything is written; pending until approved.',
    )
    .option('--registry <url>', 'npm registry to fetch from; remembered, so `packs update` asks it again (default: npm configuration)')
    .option('--allow-downgrade', 'accept a version older than the approved one')
    .option('--json', 'print as JSON (one object per pack; several packs: { ok, packs: [...] })')
    .action(
      action(async (sources: string[], options: InstallOptions) => {
        refuseRoot();
        const { paths, packsDir } = cliContext();
        ensureHome(paths.home);
        const trust = loadAgentTrust(paths);
        const results = [];
        const lines: string[] = [];
        const progress = progressBar(sources.length * 3, options);
        for (const input of sources) {
          const from = classifySource(input);
          let result;
          try {
            result = await installPack(paths, packsDir, from, trust, {
              ...options,
              onPhase: (phase) => progress.step(`${phase} ${input}`),
            });
          } catch (error) {
            progress.stop();
            if (error instanceof AgentError)
              recordPackEvent(paths, { action: 'install', pack: input, outcome: 'refused', detail: error.message });
            throw error;
          }
          const { pack } = result;
          recordPackEvent(paths, {
            action: 'install',
            pack: pack.name,
            version: pack.version,
            outcome: result.outcome,
            integrity: pack.integrity,
            keyId: pack.keyId,
            ...(result.from ? { from: result.from } : {}),
            ...(result.added.length ? { added: result.added } : {}),
          });
          results.push({
            ok: true,
            name: pack.name,
            packageName: pack.packageName,
            version: pack.version,
            source: from,
            state: result.outcome === 'pending' ? 'pending' : 'active',
            outcome: result.outcome,
            integrity: pack.integrity,
            keyId: pack.keyId,
            publishedAt: pack.publishedAt,
            permissions: pack.manifest.permissions,
            permissionsSha256: pack.permissionsSha256,
            ...(result.from ? { from: result.from } : {}),
            added: result.added,
          });
          lines.push(
            `Installed ${pack.packageName} ${pack.version} (pack ${pack.name}), signature verified: key ${pack.keyId}, ${pack.integrity}.`,
            ...(result.outcome === 'pending' && !result.from
              ? ['It asks for these permissions:', JSON.stringify(pack.manifest.permissions, null, 2)]
              : []),
            ...(result.added.length ? ['It adds:', ...result.added.map((line) => `  + ${line}`)] : []),
            result.reason,
            ...(from.kind === 'npm' && options.registry ? [`Updates will fetch from ${options.registry} (sonde packs update).`] : []),
          );
        }
        progress.stop();
        emit(options, results.length === 1 ? results[0] : { ok: true, packs: results }, lines);
      }),
    );

  packs
    .command('update [pack]')
    .description(
      'Update npm-installed packs within their range (default same major): same or fewer permissions activate, more wait for approval',
    )
    .option('--registry <url>', 'npm registry for this update and later ones (default: the one given at install, else npm configuration)')
    .option('--range <range>', 'semver range to update within (default ^<approved version>)')
    .option('--allow-downgrade', 'accept a version older than the approved one')
    .option('--json', 'print as JSON')
    .action(
      action(async (name: string | undefined, options: InstallOptions & { range?: string }) => {
        refuseRoot();
        const { paths, packsDir } = cliContext();
        const trust = loadAgentTrust(paths);
        const all = await resolvePacks(paths, packsDir, trust);
        const targets = name ? [await findResolution(paths, packsDir, trust, name)] : all;
        const updates: UpdateResult[] = [];
        const progress = progressBar(targets.length * 3, options);
        for (const { listing } of targets) {
          const result = await updatePack(
            paths,
            packsDir,
            trust,
            { ...listing, version: listing.approvedVersion ?? listing.version },
            { ...options, onPhase: (phase) => progress.step(`${phase} ${listing.packageName}`) },
          );
          updates.push(result);
          if (result.outcome !== 'up-to-date' && result.outcome !== 'skipped')
            recordPackEvent(paths, {
              action: 'update',
              pack: result.name,
              version: result.to ?? result.from,
              from: result.from,
              outcome: result.outcome,
              ...(result.added.length ? { added: result.added } : {}),
              ...(result.code ? { detail: `${result.code}: ${result.reason}` } : {}),
            });
        }
        progress.stop();
        emit(options, { ok: updates.every((u) => u.outcome !== 'refused'), updates }, [
          ...updates.map(
            (u) =>
              `${u.name}: ${u.outcome}${u.to && u.to !== u.from ? ` ${u.from} → ${u.to}` : ` ${u.from}`} — ${u.reason}${u.added.length ? `\n  adds: ${u.added.join('; ')}` : ''}`,
          ),
          RELOAD_HINT,
        ]);
        if (updates.some((u) => u.outcome === 'refused')) process.exitCode = 7;
      }),
    );

  packs
    .command('approve <pack...>')
    .description('Approve what a pack’s newest verified version declares (recorded as a SHA-256 of its signed permissions)')
    .option('--json', 'print as JSON')
    .action(
      action(async (names: string[], options: JsonOption) => {
        refuseRoot();
        const { paths, packsDir } = cliContext();
        preparePacksDir(packsDir);
        const trust = loadAgentTrust(paths);
        const approvals = readApprovals(paths);
        const approved = [];
        for (const name of names) {
          const resolution = await findResolution(paths, packsDir, trust, name);
          // The host's operator decides last: a version an admin rejected through the hub may still be approved here.
          const pack = resolution.candidate ?? resolution.rejectedCandidate ?? resolution.serving;
          if (!pack) {
            const { listing } = resolution;
            throw new AgentError('SONDE_ERR_PACK_REFUSED', `${listing.name} ${listing.version}: ${listing.reason ?? 'does not verify'}`, {
              verifyCode: listing.code,
            });
          }
          const previous = approvals.packs[pack.name]?.version;
          approvals.packs[pack.name] = approvalFor(pack, 'cli');
          approved.push({
            name: pack.name,
            version: pack.version,
            permissionsSha256: pack.permissionsSha256,
            integrity: pack.integrity,
            previous,
          });
        }
        writeApprovals(paths, approvals);
        const rejections = readRejections(paths);
        if (approved.some((entry) => rejections.packs[entry.name])) {
          for (const entry of approved) delete rejections.packs[entry.name];
          writeRejections(paths, rejections);
        }
        for (const entry of approved) {
          const stored = await findResolution(paths, packsDir, trust, entry.name);
          pruneVersions(packsDir, stored.listing.packageName, [entry.version]);
          recordPackEvent(paths, {
            action: 'approve',
            pack: entry.name,
            version: entry.version,
            outcome: 'approved',
            integrity: entry.integrity,
            ...(entry.previous ? { from: entry.previous } : {}),
          });
        }
        emit(options, approved.length === 1 ? { ok: true, ...approved[0] } : { ok: true, packs: approved }, [
          ...approved.map((pack) => `Approved ${pack.name} ${pack.version}.`),
          RELOAD_HINT,
        ]);
      }),
    );

  packs
    .command('remove <pack>')
    .description('Remove an installed pack (every version) and its approval')
    .option('--json', 'print as JSON')
    .action(
      action(async (name: string, options: JsonOption) => {
        refuseRoot();
        const { paths, packsDir } = cliContext();
        const { listing } = await findResolution(paths, packsDir, loadAgentTrust(paths), name);
        removePackFiles(packsDir, listing.packageName);
        const approvals = readApprovals(paths);
        delete approvals.packs[listing.name];
        writeApprovals(paths, approvals);
        const rejections = readRejections(paths);
        if (rejections.packs[listing.name]) {
          delete rejections.packs[listing.name];
          writeRejections(paths, rejections);
        }
        recordPackEvent(paths, { action: 'remove', pack: listing.name, version: listing.version, outcome: 'removed' });
        emit(options, { ok: true, name: listing.name }, [`Removed ${listing.name}.`, RELOAD_HINT]);
      }),
    );

  registerPacksDoctor(packs);
}
