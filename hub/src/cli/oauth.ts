import type { Command } from 'commander';
import { HubError } from '../errors.js';
import { listConsents, revokeConsent, type Consent } from '../oauth/consents.js';
import { cliActor, withCore } from './admin.js';
import { print } from './output.js';

function consentLine(c: Consent, userName: string): string {
  const name = c.clientName ? `${c.clientName} (${c.clientId})` : c.clientId;
  return `${c.id}  ${userName}  ${name}  ${c.scopes.join(' ') || '-'}  since ${c.createdAt ?? '?'}  until ${c.expiresAt ?? 'no expiry'}`;
}

/**
 * `sonde-hub oauth consents list|revoke`: the consents users gave OAuth clients (Claude.ai, ChatGPT, desktop
 * clients) to use the MCP endpoint in their name, read and withdrawn on the database like the other admin commands
 * (hub/src/oauth/consents.ts, the same code as the REST routes); a withdrawal is audited.
 */
export function registerOAuthCommands(program: Command): void {
  const oauth = program.command('oauth').description('The MCP authorization server: consents users gave OAuth clients');
  const consents = oauth.command('consents').description('List and withdraw consents (connected apps)');

  consents
    .command('list')
    .description('List live consents: every user’s, or one user’s (id, name or e-mail)')
    .option('--user <user>', 'only this user’s consents')
    .option('--json', 'print JSON')
    .action(async (options: { user?: string; json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const users = core.store.users;
        let userId: string | undefined;
        if (options.user !== undefined) {
          const user =
            (await users.getById(options.user)) ?? (await users.getByName(options.user)) ?? (await users.getByEmail(options.user));
          if (!user) throw new HubError('SONDE_ERR_NOT_FOUND', `No user ${options.user}.`);
          userId = user.id;
        }
        const list = await listConsents(core.store, userId);
        const names = new Map<string, string>();
        for (const c of list) if (!names.has(c.userId)) names.set(c.userId, (await users.getById(c.userId))?.name ?? c.userId);
        print(json, list, () => (list.length ? list.map((c) => consentLine(c, names.get(c.userId)!)).join('\n') : 'no consents'));
      });
    });

  consents
    .command('revoke <id>')
    .description('Withdraw a consent: the client’s tokens for that user stop at once and it must ask again')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const revoked = await revokeConsent(core.store, core.audit, cliActor(), id, undefined);
        print(json, revoked, () => `revoked consent ${revoked.id} (${revoked.clientName ?? revoked.clientId})`);
      });
    });
}
