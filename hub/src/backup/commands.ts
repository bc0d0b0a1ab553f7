import type { Command } from 'commander';
import path from 'node:path';
import { cliActor, withCore } from '../cli/admin.js';
import { loadAdminConfig } from '../config.js';
import { fail, print } from '../cli/output.js';
import { restoreBackup } from './restore.js';

/** `sonde-hub backup` and `sonde-hub restore` (docs: administration guide, "Backup and restore"). */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('Write a consistent copy of the database while the hub runs (SQLite VACUUM INTO; the file is created 0600)')
    .requiredOption('--out <file>', 'the backup file to create (never overwritten)')
    .option('--json', 'print JSON')
    .action(async (options: { out: string; json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const started = performance.now();
        // The entry goes in first, so the copy holds the record of its own making.
        const entry = await core.audit.append({
          action: 'hub.backup',
          actor: cliActor(),
          status: 'ok',
          detail: `backup to ${path.basename(options.out)}`,
        });
        const info = await core.store.backup(options.out);
        const result = { ...info, auditSeq: entry.seq, durationMs: Math.round(performance.now() - started) };
        print(
          json,
          result,
          () =>
            `backup written: ${info.file} (${info.bytes} bytes, schema ${info.schemaVersion}, audit up to entry ${entry.seq}, ${result.durationMs} ms)\n` +
            'Keep SONDE_SECRET with it: the backup cannot be opened without it.',
        );
      });
    });

  program
    .command('restore')
    .description(
      'Check a backup (SONDE_SECRET, migrations, full audit verify) and put it in place as SONDE_DB_PATH; run with the hub stopped',
    )
    .requiredOption('--from <file>', 'the backup file')
    .option('--force', 'replace an existing database (it is moved aside, not deleted)')
    .option('--json', 'print JSON')
    .action(async (options: { from: string; force?: boolean; json?: boolean }) => {
      const json = options.json ?? false;
      try {
        const config = loadAdminConfig();
        const result = await restoreBackup({
          from: options.from,
          dbPath: config.dbPath,
          secret: config.secret,
          force: options.force ?? false,
          actor: cliActor(),
        });
        print(
          json,
          result,
          () =>
            `restored ${result.file}: ${result.auditEntries} audit entries verified, ${result.durationMs} ms` +
            (result.previous ? `\nthe database that was there is now ${result.previous}` : '') +
            '\nStart the hub with the same SONDE_SECRET; agents reconnect on their own.',
        );
      } catch (error) {
        fail(error, json);
      }
    });
}
