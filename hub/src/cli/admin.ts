import type { Command } from 'commander';
import { ConfigError, loadAdminConfig } from '../config.js';
import { openHubCore, type HubCore } from '../core.js';
import { GENESIS_HASH } from '../audit/chain-text.js';
import { verifyArchive } from '../audit/retention.js';
import { HubError } from '../errors.js';
import { KeyNameSchema, RoleSchema, type ApiKeyView } from '../keys/index.js';
import { EnrollRequestSchema } from '@sonde/pack-sdk/protocol';
import { enrollCommand, isDialable, readServedUrl } from '../routes/hub-url.js';
import type { AuditEntryInput } from '../services.js';
import { EXIT, fail, print } from './output.js';
import { progressReporter } from './progress.js';
import { cancelledVerifyEntry, verifyAuditEntry } from '../audit/verify-jobs.js';
import { VerifyCancelledError } from '../audit/audit-log.js';

/** The OS user running the CLI goes into the audit entry: headless admin is not anonymous. */
export function cliActor(): AuditEntryInput['actor'] {
  return { kind: 'cli', id: null, name: `${process.env.USER ?? process.env.LOGNAME ?? `uid:${process.getuid?.() ?? '?'}`}@cli` };
}

/** Opens the database with SONDE_SECRET (safe while the hub runs: WAL + busy timeout), runs `fn`, closes. */
export async function withCore<T>(json: boolean, fn: (core: HubCore) => Promise<T>): Promise<T> {
  let core: HubCore | undefined;
  try {
    const config = loadAdminConfig();
    core = await openHubCore({ dbPath: config.database, secret: config.secret, ca: false });
    const result = await fn(core);
    await core.close();
    return result;
  } catch (error) {
    await core?.close().catch(() => undefined);
    return fail(error, json);
  }
}

/** A hub URL someone named (--hub-url, SONDE_PUBLIC_URL): an http(s) URL, without a trailing slash. */
export function hubUrlFromName(given: string, from: string): { url: string; from: string } {
  if (!URL.canParse(given) || !/^https?:$/.test(new URL(given).protocol))
    throw new ConfigError([`hub URL ${given} is not an http(s) URL such as https://sonde.example.com`]);
  return { url: given.replace(/\/+$/, ''), from };
}

/**
 * The hub URL for a printed enroll command: --hub-url, else SONDE_PUBLIC_URL,
 * else the address the hub recorded when it last started (its own
 * configuration), else one derived from SONDE_HOST/SONDE_PORT/SONDE_TLS here.
 * A wildcard listen address names no host an agent can dial: refused.
 */
export async function hubUrlForCli(core: HubCore, explicit: string | undefined): Promise<{ url: string; from: string }> {
  const given = explicit ?? process.env.SONDE_PUBLIC_URL;
  if (given) return hubUrlFromName(given, explicit ? '--hub-url' : 'SONDE_PUBLIC_URL');
  const served = await readServedUrl(core.store.settings);
  if (served) return { url: served, from: 'the address the hub serves (recorded at its last start)' };
  const tls = process.env.SONDE_TLS === 'auto' || Boolean(process.env.SONDE_TLS_CERT);
  const host = process.env.SONDE_HOST || '127.0.0.1';
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${process.env.SONDE_PORT || 3000}`;
  if (!isDialable(url))
    throw new ConfigError([`the hub listens on ${host}, which names no address an agent can dial: pass --hub-url or set SONDE_PUBLIC_URL`]);
  return { url, from: 'SONDE_HOST/SONDE_PORT (the hub has not started on this database yet)' };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function keyLine(k: ApiKeyView): string {
  const scope = [
    k.policy.allowedAgents.length ? `agents=${k.policy.allowedAgents.join(',')}` : '',
    k.policy.allowedProbes.length ? `probes=${k.policy.allowedProbes.join(',')}` : '',
    k.policy.allowedClients.length ? `clients=${k.policy.allowedClients.join(',')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const state = k.revokedAt ? `revoked ${k.revokedAt}` : `last used ${k.lastUsedAt ?? 'never'}`;
  return `${k.id}  ${k.name}  ${k.type}/${k.role}  ${k.prefix}…  ${state}${scope ? `  ${scope}` : ''}`;
}

export function registerAdminCommands(program: Command): void {
  const keys = program.command('keys').description('Manage API keys (prints a new key value once)');

  keys
    .command('create')
    .description('Create a user API key')
    .requiredOption('--name <name>', 'descriptive key name')
    .requiredOption('--role <role>', 'admin (MCP + REST) or member (MCP only)')
    .option('--agents <glob>', 'allow only agents matching this glob (repeatable)', collect, [])
    .option('--probes <glob>', 'allow only probes matching this glob (repeatable)', collect, [])
    .option('--clients <id>', 'allow only this MCP client id (repeatable)', collect, [])
    .option('--json', 'print JSON')
    .action(async (options: { name: string; role: string; agents: string[]; probes: string[]; clients: string[]; json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const name = KeyNameSchema.parse(options.name);
        const role = RoleSchema.parse(options.role);
        const { key, rawKey } = await core.store.transaction(async (tx) => {
          const created = await core.apiKeys.create(
            {
              name,
              role,
              policy: { allowedAgents: options.agents, allowedProbes: options.probes, allowedClients: options.clients },
            },
            tx.apiKeys,
          );
          await core.audit.append(
            {
              action: 'api_key.create',
              actor: cliActor(),
              status: 'ok',
              params: { keyId: created.key.id, name, role, policy: created.key.policy },
            },
            tx,
          );
          return created;
        });
        print(
          json,
          { key, rawKey },
          () => `${rawKey}\n\nAPI key "${key.name}" (${key.role}, id ${key.id}) created. This value is shown only once.`,
        );
      });
    });

  keys
    .command('list')
    .description('List API keys (never their values)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const list = await core.apiKeys.list();
        await core.audit.append({ action: 'api_key.list', actor: cliActor(), status: 'ok', detail: `${list.length} keys` });
        print(json, list, () => (list.length ? list.map(keyLine).join('\n') : 'no API keys'));
      });
    });

  keys
    .command('revoke <idOrName>')
    .description('Revoke a key by id or name; it stops working at once')
    .option('--json', 'print JSON')
    .action(async (idOrName: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const view = await core.store.transaction(async (tx) => {
          const revoked = await core.apiKeys.revoke(idOrName, tx.apiKeys);
          await core.audit.append(
            {
              action: 'api_key.revoke',
              actor: cliActor(),
              status: 'ok',
              params: { keyId: revoked.id, name: revoked.name },
            },
            tx,
          );
          return revoked;
        });
        print(json, view, () => `revoked ${view.name} (${view.id})`);
      });
    });

  keys
    .command('rotate <idOrName>')
    .description('Give a key a new value (printed once); the old value stops working at once. Agent keys are re-enrolled instead')
    .option('--json', 'print JSON')
    .action(async (idOrName: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const existing = await core.apiKeys.find(idOrName);
        if (existing.type === 'agent')
          throw new HubError('SONDE_ERR_CONFLICT', 'Agent keys are replaced by re-enrolling the agent, not rotated.');
        const { key, rawKey } = await core.store.transaction(async (tx) => {
          const rotated = await core.apiKeys.rotate(existing.id, tx.apiKeys);
          await core.audit.append(
            { action: 'api_key.rotate', actor: cliActor(), status: 'ok', params: { keyId: existing.id, name: existing.name } },
            tx,
          );
          return rotated;
        });
        print(json, { key, rawKey }, () => `${rawKey}\n\nAPI key "${key.name}" (id ${key.id}) rotated: the old value no longer works.`);
      });
    });

  const tokens = program.command('tokens').description('Manage enrollment tokens');
  tokens
    .command('create')
    .description('Create a single-use enrollment token (15 minutes); bound to --name if given')
    .option('--name <agent>', 'only an agent of this name may enroll with it (needed to re-enroll an existing name)')
    .option('--hub-url <url>', 'hub URL for the printed agent command (default SONDE_PUBLIC_URL, else the address the hub serves)')
    .option('--json', 'print JSON')
    .action(async (options: { name?: string; hubUrl?: string; json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const name = options.name === undefined ? null : EnrollRequestSchema.shape.name.parse(options.name);
        const { url: hubUrl, from } = await hubUrlForCli(core, options.hubUrl);
        const created = await core.tokens.create(name);
        await core.audit.append({
          action: 'enrollment_token.create',
          actor: cliActor(),
          agents: name ? [name] : [],
          status: 'ok',
          detail: `token ${created.view.prefix}${name ? ` bound to ${name}` : ''}`,
        });
        const { token, view } = created;
        const command = enrollCommand(hubUrl, token, name);
        print(
          json,
          { ...view, token, command, hubUrl },
          () =>
            `${token}\n\nExpires ${view.expiresAt}${name ? `, bound to agent name "${name}"` : ''}. On the agent host:\n  ${command}\n(hub URL from ${from}; --hub-url to change it)`,
        );
      });
    });

  tokens
    .command('list')
    .description('List enrollment tokens (prefix and state, never the value)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const list = await core.tokens.list();
        print(json, list, () =>
          list.length
            ? list
                .map((t) => `${t.id}  ${t.prefix}…  ${t.state}  ${t.boundName ? `for ${t.boundName}  ` : ''}expires ${t.expiresAt}`)
                .join('\n')
            : 'no enrollment tokens',
        );
      });
    });

  tokens
    .command('revoke <id>')
    .description('Revoke an unused enrollment token')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        await core.tokens.revoke(id);
        await core.audit.append({ action: 'enrollment_token.revoke', actor: cliActor(), status: 'ok', detail: id });
        print(json, { revoked: id }, () => `revoked enrollment token ${id}`);
      });
    });

  const audit = program.command('audit').description('Audit log');
  audit
    .command('verify')
    .description('Verify the whole audit hash chain and the anchor outside the database (--since-checkpoint: only new entries)')
    .option('--full', 'walk the whole chain (the default)')
    .option('--since-checkpoint', 'walk only entries after the last verified checkpoint (fast; an older edit is not found)')
    .option('--json', 'print JSON')
    .action(async (options: { full?: boolean; sinceCheckpoint?: boolean; json?: boolean }) => {
      const json = options.json ?? false;
      // Progress on stderr, not with --json (stderr then carries only the error object).
      const progress = json ? undefined : progressReporter('verifying the audit chain', 'entries');
      const reached = { checked: 0, total: 0 };
      // Ctrl-C (SIGINT from a terminal, or `kill -INT`): cancel the verify (worker threads terminated), record the
      // cancellation, close the database, exit 130. A second one ends the process at once.
      const cancel = new AbortController();
      const onSigint = (): void => {
        if (cancel.signal.aborted) process.exit(EXIT.interrupted);
        cancel.abort(new VerifyCancelledError('Ctrl-C', cliActor()));
      };
      process.on('SIGINT', onSigint);
      const result = await withCore(json, async (core) => {
        try {
          const verified = await core.audit
            .verify({
              full: !options.sinceCheckpoint || options.full === true,
              signal: cancel.signal,
              onProgress: ({ checked, total }) => {
                Object.assign(reached, { checked, total });
                progress?.update(checked, total);
              },
            })
            .finally(() => progress?.end());
          await core.audit.append(verifyAuditEntry(verified, cliActor()));
          return verified;
        } catch (error) {
          if (!(error instanceof VerifyCancelledError)) throw error;
          await core.audit.append(cancelledVerifyEntry(reached, cliActor(), cliActor().name, 'Ctrl-C'));
          return undefined;
        }
      }).finally(() => process.off('SIGINT', onSigint));
      if (!result) {
        const text = `audit verify cancelled after ${reached.checked.toLocaleString('en')} of ${reached.total.toLocaleString('en')} entries checked; nothing recorded`;
        process.stderr.write(json ? `${JSON.stringify({ cancelled: true, ...reached })}\n` : `sonde-hub: ${text}\n`);
        process.exit(EXIT.interrupted);
      }
      if (!result.ok) {
        if (json) print(true, result, () => '');
        fail(new HubError('SONDE_ERR_AUDIT_BROKEN', `first broken entry ${result.firstBrokenSeq}: ${result.reason}`), json);
      }
      print(
        json,
        result,
        () =>
          `audit chain OK: ${result.checked} entries checked (${result.full ? (result.fromSeq > 1 ? `full from entry ${result.fromSeq}, the older ones archived by retention` : 'full') : `from entry ${result.fromSeq}`}), ${result.total} in total, ${result.durationMs} ms\n` +
          (result.anchoredSeq === null
            ? 'no anchor outside the database yet (a new data folder): one is written now'
            : `the anchor outside the database names entry ${result.anchoredSeq}: still in place`),
      );
    });

  audit
    .command('verify-archive')
    .description('Verify audit archive files written by retention: each on its own, their links to each other and to the database')
    .argument('<files...>', 'archive files (audit-<from>-<to>.jsonl)')
    .option('--json', 'print JSON')
    .action(async (files: string[], options: { json?: boolean }) => {
      const json = options.json ?? false;
      const report = await withCore(json, async (core) => {
        const checks = (await Promise.all(files.map((file) => verifyArchive(file, core.crypto.auditKey)))).sort(
          (a, b) => a.fromSeq - b.fromSeq,
        );
        const problems = checks.filter((check) => !check.ok).map((check) => `${check.file}: ${check.reason}`);
        for (let i = 0; i < checks.length; i++) {
          const [previous, check] = [checks[i - 1], checks[i]];
          if (!check.ok) continue;
          if (check.fromSeq === 1 && check.prevHash !== GENESIS_HASH)
            problems.push(`${check.file}: entry 1 does not start from the genesis hash`);
          if (previous?.ok && (previous.toSeq + 1 !== check.fromSeq || previous.lastHash !== check.prevHash))
            problems.push(
              `${check.file} does not follow ${previous.file} (entries ${previous.toSeq + 1}-${check.fromSeq - 1} missing or another chain)`,
            );
        }
        const base = await core.audit.base();
        const last = checks[checks.length - 1];
        if (last?.ok && last.toSeq === base.seq && last.lastHash !== base.hash)
          problems.push(`${last.file} ends at entry ${base.seq} with another hash than the database's retention checkpoint`);
        await core.audit.append({
          action: 'audit.verify_archive',
          actor: cliActor(),
          status: problems.length === 0 ? 'ok' : 'error',
          detail:
            problems.length === 0
              ? `${checks.length} archives, entries ${checks[0]?.fromSeq}-${last?.toSeq}`
              : problems.join('; ').slice(0, 500),
        });
        return { ok: problems.length === 0, archives: checks, problems, databaseBase: base.seq, linksToDatabase: last?.toSeq === base.seq };
      });
      if (!report.ok) {
        if (json) print(true, report, () => '');
        fail(new HubError('SONDE_ERR_AUDIT_BROKEN', report.problems.join('\n')), json);
      }
      print(
        json,
        report,
        () =>
          report.archives.map((check) => `${check.file}: entries ${check.fromSeq}-${check.toSeq} OK (${check.count})`).join('\n') +
          (report.linksToDatabase ? `\nthe last archive ends where the database's chain begins (entry ${report.databaseBase})` : ''),
      );
    });
}
