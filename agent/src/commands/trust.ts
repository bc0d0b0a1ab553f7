import type { Command } from 'commander';
import { PublicKeyFileSchema, addDenyRule, addPin, addRotation, addTrustedKey, removeTrustedKey, type TrustStore } from '@sonde/registry';
import semver from 'semver';
import { cliContext } from '../cli/context.js';
import { action, emit, type JsonOption } from '../cli/output.js';
import { AgentError } from '../errors.js';
import { ensureHome } from '../home.js';
import { recordPackEvent } from '../packs/events.js';
import { acceptPackIndex } from '../packs/pack-index.js';
import { acceptRevocations, readRevocations, readTrustJson, readTrustStore, trustFiles, writeTrustStore } from '../packs/trust.js';
import { refuseRoot } from '../root-guard.js';

function edit(change: (store: TrustStore) => TrustStore): TrustStore {
  const { paths } = cliContext();
  ensureHome(paths.home);
  let next: TrustStore;
  try {
    next = change(readTrustStore(paths));
  } catch (error) {
    if (error instanceof AgentError) throw error;
    throw new AgentError('SONDE_ERR_TRUST_INVALID', (error as Error).message);
  }
  writeTrustStore(paths, next);
  return next;
}

const RELOAD = 'A running agent re-verifies every pack against the new trust within seconds.';

export function registerTrust(program: Command): void {
  const trust = program
    .command('trust')
    .description('Trust roots and policy for packs (SONDE_HOME/trust.json) and the hub-signed revocation list');

  trust
    .command('list')
    .description('Show trusted keys, policy and the held revocation list')
    .option('--json', 'print as JSON')
    .action(
      action((options: JsonOption) => {
        const { paths } = cliContext();
        const store = readTrustStore(paths);
        const revocations = readRevocations(paths, store);
        emit(options, { file: trustFiles(paths).store, store, revocations: revocations ?? null }, [
          `Trust store: ${trustFiles(paths).store}`,
          ...store.keys.map((key) => `  publisher key ${key.keyId}${key.publisher ? ` (${key.publisher})` : ''}`),
          ...store.hubKeys.map((key) => `  hub key ${key.keyId}`),
          ...store.indexKeys.map((key) => `  index key ${key.keyId}`),
          ...store.policy.allow.map(
            (rule) => `  allow ${rule.pack}${rule.versions ? `@${rule.versions}` : ''} by ${rule.publisher ?? 'any trusted key'}`,
          ),
          ...store.policy.deny.map(
            (rule) => `  deny ${rule.pack}${rule.versions ? `@${rule.versions}` : ''}${rule.reason ? ` (${rule.reason})` : ''}`,
          ),
          ...store.policy.pins.map((pin) => `  pin ${pin.pack}@${pin.version} ${pin.integrity}`),
          revocations
            ? `Revocations: serial ${revocations.serial}, ${revocations.keys.length} keys, ${revocations.packs.length} pack versions`
            : 'Revocations: none held',
        ]);
      }),
    );

  trust
    .command('add-key <public-key-file>')
    .description(
      'Trust a public key (sonde-registry keygen writes FILE.pub.json). Publisher keys may sign every pack unless --allow narrows them',
    )
    .option('--role <role>', 'publisher, hub (signs revocation lists) or index (signs the pack index)', 'publisher')
    .option('--allow <pattern...>', 'pack names or patterns this publisher may sign (default: *)')
    .option('--not-before <iso>', 'refuse signatures published before this time')
    .option('--not-after <iso>', 'refuse signatures published after this time')
    .option('--json', 'print as JSON')
    .action(
      action((file: string, options: JsonOption & { role: string; allow?: string[]; notBefore?: string; notAfter?: string }) => {
        refuseRoot();
        const parsed = PublicKeyFileSchema.safeParse(readTrustJson(file));
        if (!parsed.success)
          throw new AgentError('SONDE_ERR_TRUST_INVALID', `${file} is not a public key file (sonde-registry keygen writes FILE.pub.json).`);
        const role = options.role;
        if (role !== 'publisher' && role !== 'hub' && role !== 'index')
          throw new AgentError('SONDE_ERR_USAGE', '--role is publisher, hub or index.');
        const date = (value: string | undefined, flag: string): Date | undefined => {
          if (value === undefined) return undefined;
          const parsedDate = new Date(value);
          if (Number.isNaN(parsedDate.getTime())) throw new AgentError('SONDE_ERR_USAGE', `${flag} ${value} is not a date.`);
          return parsedDate;
        };
        const allow = role === 'publisher' ? (options.allow ?? ['*']) : [];
        edit((store) =>
          addTrustedKey(store, parsed.data, {
            role,
            allow,
            notBefore: date(options.notBefore, '--not-before'),
            notAfter: date(options.notAfter, '--not-after'),
          }),
        );
        emit(options, { ok: true, keyId: parsed.data.keyId, role, allow }, [
          `Trusted ${role} key ${parsed.data.keyId}${role === 'publisher' ? ` for ${allow.join(', ')}` : ''}.`,
          RELOAD,
        ]);
      }),
    );

  trust
    .command('add-rotation <statement-file>')
    .description('Accept a publisher key hand-over signed by the old key (sonde-registry rotate); old signatures keep verifying')
    .option('--json', 'print as JSON')
    .action(
      action((file: string, options: JsonOption) => {
        refuseRoot();
        const statement = readTrustJson(file);
        const next = edit((store) => addRotation(store, statement));
        const added = next.rotations.at(-1)!;
        emit(options, { ok: true, from: added.from, to: added.to.keyId }, [
          `Key ${added.from} hands over to ${added.to.keyId}; packs signed by either verify within their windows.`,
          RELOAD,
        ]);
      }),
    );

  trust
    .command('remove-key <key-id>')
    .description('Stop trusting a key (packs it signed are refused at their next load)')
    .option('--json', 'print as JSON')
    .action(
      action((keyId: string, options: JsonOption) => {
        refuseRoot();
        edit((store) => removeTrustedKey(store, keyId));
        emit(options, { ok: true, keyId }, [`Removed key ${keyId}.`, RELOAD]);
      }),
    );

  trust
    .command('pin <pack-at-version> <integrity>')
    .description('Admit exactly this content for this version (integrity as sonde-registry verify or sonde packs list prints)')
    .option('--json', 'print as JSON')
    .action(
      action((spec: string, integrity: string, options: JsonOption) => {
        refuseRoot();
        const at = spec.lastIndexOf('@');
        const pack = at > 0 ? spec.slice(0, at) : '';
        const version = at > 0 ? spec.slice(at + 1) : '';
        if (!pack || semver.valid(version) === null) throw new AgentError('SONDE_ERR_USAGE', `${spec}: expected <pack>@<exact version>.`);
        edit((store) => addPin(store, { pack, version, integrity }));
        emit(options, { ok: true, pack, version, integrity }, [`Pinned ${pack}@${version} to ${integrity}.`, RELOAD]);
      }),
    );

  trust
    .command('deny <pack>')
    .description('Refuse a pack, or some of its versions, on top of any allow rule')
    .option('--versions <range>', 'semver range (default: every version)')
    .option('--reason <text>', 'why, shown with every refusal')
    .option('--json', 'print as JSON')
    .action(
      action((pack: string, options: JsonOption & { versions?: string; reason?: string }) => {
        refuseRoot();
        if (options.versions !== undefined && semver.validRange(options.versions) === null)
          throw new AgentError('SONDE_ERR_USAGE', `--versions ${options.versions} is not a semver range.`);
        edit((store) =>
          addDenyRule(store, {
            pack,
            ...(options.versions ? { versions: options.versions } : {}),
            ...(options.reason ? { reason: options.reason } : {}),
          }),
        );
        emit(options, { ok: true, pack, versions: options.versions ?? '*' }, [
          `Denied ${pack}${options.versions ? `@${options.versions}` : ''}.`,
          RELOAD,
        ]);
      }),
    );

  trust
    .command('index <index-file>')
    .description('Import the organisation’s signed pack index: install and update then admit only the versions and content it lists')
    .option('--json', 'print as JSON')
    .action(
      action((file: string, options: JsonOption) => {
        refuseRoot();
        const { paths } = cliContext();
        ensureHome(paths.home);
        const { changed, index } = acceptPackIndex(paths, readTrustJson(file));
        const packages = Object.keys(index.packs).length;
        emit(options, { ok: true, changed, serial: index.serial, packages }, [
          changed
            ? `Pack index serial ${index.serial} imported (${packages} packages).`
            : `Pack index serial ${index.serial} is already held.`,
        ]);
      }),
    );

  trust
    .command('revocations <list-file>')
    .description('Import a hub-signed revocation list (the hub also syncs it to connected agents); older lists are refused')
    .option('--json', 'print as JSON')
    .action(
      action((file: string, options: JsonOption) => {
        refuseRoot();
        const { paths } = cliContext();
        ensureHome(paths.home);
        const { changed, list } = acceptRevocations(paths, readTrustJson(file));
        if (changed)
          recordPackEvent(paths, {
            action: 'revocations',
            pack: '*',
            outcome: 'imported',
            detail: `serial ${list.serial}: ${list.keys.length} keys, ${list.packs.length} pack versions`,
          });
        emit(options, { ok: true, changed, serial: list.serial, keys: list.keys.length, packs: list.packs.length }, [
          changed ? `Revocation list serial ${list.serial} imported.` : `Revocation list serial ${list.serial} is already held.`,
          RELOAD,
        ]);
      }),
    );
}
