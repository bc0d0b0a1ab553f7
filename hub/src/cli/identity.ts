import type { Command } from 'commander';
import { z } from 'zod';
import { createDirectoryAdmin } from '../identity/admin.js';
import { AuthorizedGroupSchema, RoleSchema } from '../identity/index.js';
import type { UserRecord } from '../store/types.js';
import { cliActor, withCore } from './admin.js';
import { print } from './output.js';

const EmailSchema = z.email().max(320);

function userLine(u: UserRecord): string {
  const state = u.enabled ? 'enabled' : 'disabled';
  const seen = u.lastLoginAt ? `last sign-in ${u.lastLoginAt}` : u.subject ? 'signed in' : 'never signed in';
  return `${u.id}  ${u.name}  ${u.role}  ${state}  ${u.origin === 'group' ? 'from groups' : 'added'}  ${seen}`;
}

/** `sonde-hub users …` and `sonde-hub groups …`: the REST user directory for headless setups (same audit entries). */
export function registerIdentityCommands(program: Command): void {
  const users = program.command('users').description('Manage users who sign in with single sign-on (and local user records)');
  const dir = (core: Parameters<Parameters<typeof withCore>[1]>[0]) => createDirectoryAdmin({ store: core.store, audit: core.audit });

  users
    .command('add <email>')
    .description('Authorize a user by e-mail before their first sign-in')
    .requiredOption('--role <role>', 'member (MCP through API keys) or admin (MCP + dashboard + REST)')
    .option('--name <name>', 'user name (default: the e-mail)')
    .option('--disabled', 'add the record disabled')
    .option('--json', 'print JSON')
    .action(async (email: string, options: { role: string; name?: string; disabled?: boolean; json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const user = await dir(core).addUser(
          { email: EmailSchema.parse(email), name: options.name, role: RoleSchema.parse(options.role), enabled: !options.disabled },
          cliActor(),
        );
        print(json, user, () => `added ${user.name} (${user.role}, id ${user.id})`);
      });
    });

  users
    .command('list')
    .description('List users')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const list = await dir(core).listUsers();
        print(json, list, () => (list.length ? list.map(userLine).join('\n') : 'no users'));
      });
    });

  users
    .command('set-role <user> <role>')
    .description('Change a user’s role (id, name or e-mail); live sessions follow at their next request')
    .option('--json', 'print JSON')
    .action(async (user: string, role: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const next = await dir(core).updateUser(user, { role: RoleSchema.parse(role) }, cliActor());
        print(json, next, () => `${next.name} is now ${next.role}`);
      });
    });

  for (const [command, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    users
      .command(`${command} <user>`)
      .description(enabled ? 'Enable a user again' : 'Disable a user: the record stays, their sessions end now, sign-in is refused')
      .option('--json', 'print JSON')
      .action(async (user: string, options: { json?: boolean }) => {
        const json = options.json ?? false;
        await withCore(json, async (core) => {
          const next = await dir(core).updateUser(user, { enabled }, cliActor());
          print(json, next, () => `${next.name} ${enabled ? 'enabled' : 'disabled'}`);
        });
      });
  }

  users
    .command('remove <user>')
    .description('Remove a user: sessions end now; a user from an authorized group is re-created at their next sign-in')
    .option('--json', 'print JSON')
    .action(async (user: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const removed = await dir(core).removeUser(user, cliActor());
        print(json, { removed: removed.id }, () => `removed ${removed.name}`);
      });
    });

  const groups = program.command('groups').description('Manage authorized groups (single sign-on)');
  groups
    .command('add <groupId>')
    .description('Authorize a group: Entra group object id or app role value, or the group name your provider sends')
    .requiredOption('--name <displayName>', 'display name')
    .requiredOption('--role <role>', 'default role of its members: member or admin')
    .option('--json', 'print JSON')
    .action(async (groupId: string, options: { name: string; role: string; json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const input = AuthorizedGroupSchema.parse({ groupId, displayName: options.name, defaultRole: options.role });
        const group = await dir(core).addGroup(input, cliActor());
        print(json, group, () => `authorized ${group.displayName} (${group.groupId}) as ${group.defaultRole}`);
      });
    });

  groups
    .command('list')
    .description('List authorized groups')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const list = await dir(core).listGroups();
        print(json, list, () =>
          list.length ? list.map((g) => `${g.groupId}  ${g.displayName}  ${g.defaultRole}`).join('\n') : 'no authorized groups',
        );
      });
    });

  groups
    .command('set-role <groupId> <role>')
    .description('Change a group’s default role; live sessions follow at their next request')
    .option('--json', 'print JSON')
    .action(async (groupId: string, role: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const group = await dir(core).updateGroup(groupId, { defaultRole: RoleSchema.parse(role) }, cliActor());
        print(json, group, () => `${group.displayName} members now hold at least ${group.defaultRole}`);
      });
    });

  groups
    .command('remove <groupId>')
    .description('Remove a group and the users who came only from it (their sessions end now)')
    .option('--json', 'print JSON')
    .action(async (groupId: string, options: { json?: boolean }) => {
      const json = options.json ?? false;
      await withCore(json, async (core) => {
        const result = await dir(core).removeGroup(groupId, cliActor());
        print(json, result, () => `removed ${groupId} and ${result.removedUsers} user(s) who came only from it`);
      });
    });
}
