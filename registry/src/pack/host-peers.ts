/**
 * The packages every pack process gets from the host, never from the pack:
 * the agent (and the hub) install none of a pack's dependencies and put their
 * own copies of these beside it. A pack declares them as `peerDependencies`
 * (and may repeat them in `devDependencies` to build and test); a pack that
 * lists them elsewhere installs and gets approved, then cannot start.
 */
export const HOST_PEERS = ['@sonde/pack-sdk', 'zod'] as const;

interface PackageFields {
  dependencies?: unknown;
  devDependencies?: unknown;
  peerDependencies?: unknown;
}

function listed(section: unknown, name: string): boolean {
  return typeof section === 'object' && section !== null && typeof (section as Record<string, unknown>)[name] === 'string';
}

/**
 * What is wrong with a pack's package.json against the host-peer contract, as
 * one sentence that tells the author what to change; undefined when it is right.
 */
export function hostPeerProblem(pkg: unknown): string | undefined {
  const fields = (typeof pkg === 'object' && pkg !== null ? pkg : {}) as PackageFields;
  const missing = HOST_PEERS.filter((name) => !listed(fields.peerDependencies, name));
  if (missing.length === 0) return undefined;
  const where = missing.map((name) => {
    if (listed(fields.dependencies, name)) return `move ${name} from "dependencies" to "peerDependencies"`;
    if (listed(fields.devDependencies, name)) return `add ${name} to "peerDependencies" (keeping it in "devDependencies" is fine)`;
    return `add ${name} to "peerDependencies"`;
  });
  return (
    `package.json must list ${HOST_PEERS.join(' and ')} under "peerDependencies": the agent installs none of a pack's ` +
    `dependencies and provides its own copies of these, so the pack could not start. Fix: ${where.join('; ')}.`
  );
}
