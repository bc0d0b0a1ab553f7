import { PermissionsSchema, type NetworkPermission, type Permissions, type PermissionsInput } from '@sonde/pack-sdk';

export type PermissionKind = 'command' | 'file' | 'group' | 'network' | 'credential';

export interface PermissionChange {
  kind: PermissionKind;
  /** Stable identity of the grant, e.g. `command:docker ["ps","--format","<text>"]`. */
  key: string;
  /** What an operator reads in the diff, e.g. `run docker ps --format <text>`. */
  description: string;
}

export interface PermissionDiff {
  added: PermissionChange[];
  removed: PermissionChange[];
  /** True when the new version may do anything the old one could not: it must wait for approval. */
  widened: boolean;
}

interface Grant extends PermissionChange {
  /** True when this grant is already allowed by the other side (network paths are checked by coverage). */
  coveredBy: (other: Permissions) => boolean;
}

function networkTarget(entry: NetworkPermission): string {
  return `${entry.protocol}://${entry.host}${entry.port === undefined ? '' : `:${entry.port}`}`;
}

function sameEndpoint(a: NetworkPermission, b: NetworkPermission): boolean {
  return a.protocol === b.protocol && a.host === b.host && a.port === b.port;
}

/**
 * One grant per command shape, file glob, group, endpoint path and credential:
 * a new argument shape for a binary already allowed is a new grant, and a
 * changed description is not.
 */
function grants(permissions: Permissions): Grant[] {
  const out: Grant[] = [];
  for (const command of permissions.commands) {
    for (const args of command.args) {
      const key = `command:${command.binary} ${JSON.stringify(args)}`;
      out.push({
        kind: 'command',
        key,
        description: `run ${[command.binary, ...args].join(' ')}`,
        coveredBy: (other) =>
          other.commands.some((c) => c.binary === command.binary && c.args.some((a) => JSON.stringify(a) === JSON.stringify(args))),
      });
    }
  }
  for (const file of permissions.files) {
    out.push({ kind: 'file', key: `file:${file}`, description: `read ${file}`, coveredBy: (other) => other.files.includes(file) });
  }
  for (const group of permissions.groups) {
    out.push({
      kind: 'group',
      key: `group:${group}`,
      description: `member of group ${group}`,
      coveredBy: (other) => other.groups.includes(group),
    });
  }
  for (const entry of permissions.network) {
    const target = networkTarget(entry);
    const paths = entry.paths ?? [undefined];
    for (const path of paths) {
      out.push({
        kind: 'network',
        key: `network:${target}${path ?? ' (any path)'}`,
        description: path === undefined ? `connect to ${target} (any path)` : `request ${target}${path}`,
        // An endpoint without `paths` allows every path, so it covers any path on the same endpoint.
        coveredBy: (other) =>
          other.network.some((o) => sameEndpoint(o, entry) && (o.paths === undefined || (path !== undefined && o.paths.includes(path)))),
      });
    }
  }
  for (const credential of permissions.credentials) {
    out.push({
      kind: 'credential',
      key: `credential:${credential.name}`,
      description: `use credential ${credential.name}`,
      coveredBy: (other) => other.credentials.some((c) => c.name === credential.name),
    });
  }
  return out;
}

const strip = ({ kind, key, description }: Grant): PermissionChange => ({ kind, key, description });

/**
 * What a new version may do that the old one could not (`added`), and the
 * reverse (`removed`). `update` activates when nothing was added and leaves the
 * new version pending (the old one keeps serving) when something was.
 */
export function diffPermissions(
  oldPermissions: PermissionsInput | undefined,
  newPermissions: PermissionsInput | undefined,
): PermissionDiff {
  const before = PermissionsSchema.parse(oldPermissions ?? {});
  const after = PermissionsSchema.parse(newPermissions ?? {});
  const added = grants(after)
    .filter((grant) => !grant.coveredBy(before))
    .map(strip);
  const removed = grants(before)
    .filter((grant) => !grant.coveredBy(after))
    .map(strip);
  return { added, removed, widened: added.length > 0 };
}
