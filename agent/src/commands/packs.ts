import type { Command } from 'commander';
import { cliContext } from '../cli/context.js';
import { action, emit, type JsonOption } from '../cli/output.js';
import { ensureHome } from '../home.js';
import { scan } from '../packs/detect.js';
import { classifySource, installPack, removePack, updatePacks } from '../packs/install.js';
import {
  discoverPacks,
  findInstalled,
  listPacks,
  preparePacksDir,
  readApprovals,
  writeApprovals,
  type InstalledPack,
} from '../packs/store.js';
import { refuseRoot } from '../root-guard.js';

const RESTART_HINT =
  'A running agent applies approvals and removals within seconds; a changed pack version needs a restart (systemctl restart sonde).';

export function registerPacks(program: Command): void {
  const packs = program.command('packs').description('Manage the packs in SONDE_HOME/packs (an npm prefix)');

  packs
    .command('list')
    .description('List installed packs and their state (active, pending approval, failed)')
    .option('--json', 'print as JSON')
    .action(
      action((options: JsonOption) => {
        const { paths, packsDir } = cliContext();
        const list = listPacks(paths, packsDir);
        emit(
          options,
          { packsDir, packs: list },
          list.length === 0
            ? [`No packs in ${packsDir}. Try: sonde packs scan`]
            : list.map((p) => `${p.name} ${p.version} ${p.state}${p.reason ? ` (${p.reason})` : ''}`),
        );
      }),
    );

  packs
    .command('scan')
    .description('Evaluate every known pack’s detection rules (commands on PATH, files, services) and suggest packs')
    .option('--json', 'print as JSON')
    .action(
      action((options: JsonOption) => {
        const { packsDir } = cliContext();
        const installed = discoverPacks(packsDir).filter((p): p is InstalledPack => !('error' in p));
        const results = scan(installed);
        const suggested = results.filter((r) => r.matched.length > 0 && !r.installed);
        emit(
          options,
          { suggestions: suggested, results },
          results.map(
            (r) =>
              `${r.matched.length > 0 ? (r.installed ? '✓ installed ' : '→ suggest   ') : '  no match  '} ${r.pack} (${r.packageName})${r.matched.length > 0 ? `: ${r.matched.join(', ')}` : ''}`,
          ),
        );
      }),
    );

  packs
    .command('install <pkg-or-dir...>')
    .description(
      'Install packs: a local directory is copied (development); anything else is an npm spec installed with npm --ignore-scripts. Packs stay pending until approved.',
    )
    .option('--json', 'print as JSON (one object per pack; several packs: { ok, packs: [...] })')
    .action(
      action(async (sources: string[], options: JsonOption) => {
        refuseRoot();
        const { paths, packsDir } = cliContext();
        ensureHome(paths.home);
        const results = [];
        const lines: string[] = [];
        for (const source of sources) {
          const from = classifySource(source);
          const pack = await installPack(packsDir, from);
          results.push({
            ok: true,
            name: pack.name,
            packageName: pack.packageName,
            version: pack.version,
            source: from,
            state: 'pending',
            permissions: pack.manifest.permissions,
            permissionsSha256: pack.permissionsSha256,
          });
          lines.push(
            `Installed ${pack.packageName} ${pack.version} (pack ${pack.name}) from ${from.kind === 'directory' ? `directory ${from.dir} (copied)` : `npm ${from.spec}`}.`,
            'It asks for these permissions:',
            JSON.stringify(pack.manifest.permissions, null, 2),
            `It stays PENDING until you review them and run: sonde packs approve ${pack.name}`,
          );
        }
        emit(options, results.length === 1 ? results[0] : { ok: true, packs: results }, lines);
      }),
    );

  packs
    .command('update [pkg]')
    .description('Update npm-installed packs (all, or one); packs whose permissions change fall back to pending')
    .option('--json', 'print as JSON')
    .action(
      action(async (pkg: string | undefined, options: JsonOption) => {
        refuseRoot();
        const { paths, packsDir } = cliContext();
        await updatePacks(packsDir, pkg);
        const list = listPacks(paths, packsDir);
        emit(options, { ok: true, packs: list }, [
          ...list.map((p) => `${p.name} ${p.version} ${p.state}${p.reason ? ` (${p.reason})` : ''}`),
          RESTART_HINT,
        ]);
      }),
    );

  packs
    .command('approve <pack...>')
    .description('Approve the permissions packs declare now (recorded as a SHA-256 of the canonical permissions)')
    .option('--json', 'print as JSON')
    .action(
      action((names: string[], options: JsonOption) => {
        refuseRoot();
        const { paths, packsDir } = cliContext();
        preparePacksDir(packsDir);
        const approvals = readApprovals(paths);
        const approved = names.map((name) => {
          const pack = findInstalled(packsDir, name);
          approvals.packs[pack.name] = {
            packageName: pack.packageName,
            version: pack.version,
            permissionsSha256: pack.permissionsSha256,
            approvedAt: new Date().toISOString(),
          };
          return { name: pack.name, version: pack.version, permissionsSha256: pack.permissionsSha256 };
        });
        writeApprovals(paths, approvals);
        emit(options, approved.length === 1 ? { ok: true, ...approved[0] } : { ok: true, packs: approved }, [
          ...approved.map((pack) => `Approved ${pack.name} ${pack.version}.`),
          RESTART_HINT,
        ]);
      }),
    );

  packs
    .command('remove <pack>')
    .description('Remove an installed pack and its approval')
    .option('--json', 'print as JSON')
    .action(
      action(async (name: string, options: JsonOption) => {
        refuseRoot();
        const { paths, packsDir } = cliContext();
        const pack = findInstalled(packsDir, name);
        await removePack(packsDir, pack);
        const approvals = readApprovals(paths);
        delete approvals.packs[pack.name];
        writeApprovals(paths, approvals);
        emit(options, { ok: true, name: pack.name }, [`Removed ${pack.name}.`, RESTART_HINT]);
      }),
    );
}
