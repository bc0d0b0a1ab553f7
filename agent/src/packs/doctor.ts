import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { globMatcher, SAFE_PATH, type PackManifest } from '@sonde/pack-sdk';
import { diffPermissions } from '@sonde/registry';
import type { PackListing } from './store.js';

/**
 * `sonde packs doctor`: why a pack is pending, failing or degraded, and the
 * exact command that fixes it. Everything here is split in two:
 * - `gather*` functions read the host (SAFE_PATH, /etc/group, file modes,
 *   /proc, sysctls): the facts;
 * - `diagnose*` functions turn facts into findings and touch nothing, so
 *   every rule is unit-tested with real manifests and hand-made facts.
 */

export type Severity = 'error' | 'warn' | 'ok';

/** Stable finding codes (agent/README.md, "Pack doctor"). */
export type FindingCode =
  | 'ok'
  | 'approval-pending'
  | 'approval-stale'
  | 'update-pending'
  | 'update-refused'
  | 'verify-failed'
  | 'trust-invalid'
  | 'hub-pack'
  | 'binary-missing'
  | 'group-missing'
  | 'group-not-active'
  | 'group-absent'
  | 'file-unreadable'
  | 'sandbox-quarantined'
  | 'sandbox-failed'
  | 'load-failed'
  | 'code-differs'
  | 'runtime-failed'
  | 'agent-not-running'
  | 'isolation-in-process'
  | 'isolation-namespaces-off'
  | 'isolation-degraded'
  | 'setpriv-missing';

export interface Finding {
  /** Pack name, or `*` for what concerns every pack (trust, isolation, the running agent). */
  pack: string;
  severity: Severity;
  code: FindingCode;
  problem: string;
  /** The exact command(s) to run, in order (empty when nothing is to be done). */
  fix: string[];
  /** The registry refusal code, for verification findings. */
  verifyCode?: string;
  /** Every permission a pending version asks for or adds (`+`) and drops (`-`), unfolded. */
  details?: string[];
}

export const HOST = '*';

/** Debian packages that provide the binaries our packs declare; others fall back to a generic hint. */
export const BINARY_PACKAGES: Record<string, string> = {
  docker: 'docker.io',
  psql: 'postgresql-client',
  pg_isready: 'postgresql-client',
  mariadb: 'mariadb-client',
  mysql: 'mariadb-client',
  mysqladmin: 'mariadb-client',
  'redis-cli': 'redis-tools',
  nginx: 'nginx',
  journalctl: 'systemd',
  systemctl: 'systemd',
  ss: 'iproute2',
  ip: 'iproute2',
  ping: 'iputils-ping',
  traceroute: 'traceroute',
  df: 'coreutils',
  cat: 'coreutils',
  ps: 'procps',
  free: 'procps',
  uptime: 'procps',
  dmesg: 'util-linux',
  lsblk: 'util-linux',
  findmnt: 'util-linux',
  unshare: 'util-linux',
  setpriv: 'util-linux',
  curl: 'curl',
  dig: 'bind9-dnsutils',
  netstat: 'net-tools',
};

export function installCommand(binary: string): string {
  const base = path.basename(binary);
  const pkg = BINARY_PACKAGES[base];
  if (pkg === 'docker.io') return 'sudo apt-get install docker.io   # or docker-ce-cli from Docker’s own repository';
  return pkg ? `sudo apt-get install ${pkg}` : `install the package that provides ${base} (apt-file search bin/${base})`;
}

// ---------------------------------------------------------------- facts

export interface PathFact {
  path: string;
  directory: boolean;
  /** Owning group name (or gid when it has no name). */
  group: string;
  /** Whether the owning group may read it (and list it, for a directory). */
  groupReadable: boolean;
}

export interface FileFact {
  /** The declared glob. */
  glob: string;
  /** The folder (or file) the glob starts from: everything before the first wildcard. */
  base: string;
  baseExists: boolean;
  /** How many existing paths the glob matched (bounded walk). */
  matched: number;
  /** Matched paths (or the base) this user cannot read; at most a few. */
  unreadable: PathFact[];
}

export interface UserFacts {
  user: string;
  /** Groups this user belongs to: /etc/group membership, the primary group and this process's groups. */
  groups: string[];
  /** Every group defined on this host. */
  existingGroups: string[];
  /** `SupplementaryGroups=` of the installed sonde.service (and its drop-ins): groups the service gets without membership. */
  serviceGroups?: string[];
}

export interface AgentFacts {
  /** A live status.json written by a running agent. */
  running: boolean;
  pid?: number;
  /** The running agent's isolation string (status.json). */
  isolation?: string;
  /** Groups of the running agent process (/proc/<pid>/status), when readable. */
  groups?: string[];
  /** Pack states the running agent publishes (quarantine, sandbox start or load failures). */
  packs: Array<{ name: string; version: string; state: string; reason?: string }>;
}

export interface IsolationFacts {
  mode: 'process' | 'in-process';
  namespaces: 'auto' | 'none';
  /** unshare with user, net and pid namespaces works for this user. */
  userNamespaces: boolean;
  unshareFound: boolean;
  setprivWorks: boolean;
  /** Sysctls that gate unprivileged user namespaces (absent when the kernel has no such knob). */
  sysctl: { unprivilegedUsernsClone?: number; maxUserNamespaces?: number; apparmorRestrictUnprivilegedUserns?: number };
}

export interface TrustFacts {
  ok: boolean;
  /** SONDE_HOME/trust.json exists. */
  storeExists: boolean;
  reason?: string;
  file: string;
}

export interface PackFacts {
  listing: PackListing;
  /** The verified manifest that serves, or that an approval would activate. */
  manifest?: PackManifest;
  /** Where the package was installed from (packs/sources.json). */
  source?: { kind: 'directory' | 'npm'; spec: string };
  /** Declared binary → where it was found on SAFE_PATH (null: not found). */
  binaries: Record<string, string | null>;
  files: FileFact[];
}

export interface DoctorFacts {
  user: UserFacts;
  agent: AgentFacts;
  isolation: IsolationFacts;
  trust: TrustFacts;
  packs: PackFacts[];
}

export interface PackReport {
  name: string;
  packageName: string;
  version: string;
  state: PackListing['state'] | 'unknown';
  severity: Severity;
  findings: Finding[];
}

export interface DoctorReport {
  ok: boolean;
  severity: Severity;
  user: string;
  host: Finding[];
  packs: PackReport[];
  findings: Finding[];
}

// ---------------------------------------------------------------- diagnosis

const RESTART = 'sudo systemctl restart sonde';

function q(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

function reinstallCommand(facts: PackFacts): string {
  const { listing, source } = facts;
  const spec = source ? source.spec : `${listing.packageName}@${listing.version}`;
  return `sonde packs remove ${listing.name} && sonde packs install ${q(spec)}`;
}

/** The fix for one registry refusal code (a version that does not verify). */
export function verifyFix(
  code: string,
  reason: string,
  facts: PackFacts,
  trust: Pick<TrustFacts, 'storeExists'>,
): { problem: string; fix: string[] } {
  const { listing } = facts;
  const name = listing.name;
  const keyId = /key (\S+)/.exec(reason)?.[1];
  switch (code) {
    case 'SONDE_ERR_PACK_FILE_CHANGED':
    case 'SONDE_ERR_PACK_FILE_ADDED':
    case 'SONDE_ERR_PACK_FILE_REMOVED':
    case 'SONDE_ERR_PACK_MANIFEST_MISMATCH':
      return {
        problem: `the installed copy no longer matches what was signed (${reason}); something changed it after install — find out what before reinstalling`,
        fix: [reinstallCommand(facts)],
      };
    case 'SONDE_ERR_PACK_UNSIGNED':
    case 'SONDE_ERR_PACK_BAD_SIGNATURE':
    case 'SONDE_ERR_PACK_MALFORMED':
      return {
        problem: `its signature is missing or does not verify (${reason})`,
        fix: [reinstallCommand(facts)],
      };
    case 'SONDE_ERR_PACK_UNKNOWN_KEY':
      return {
        problem: trust.storeExists
          ? `it is signed by a key this agent does not trust (${reason})`
          : `there is no trust store (SONDE_HOME/trust.json), so no publisher key is trusted (${reason})`,
        fix: [`sonde trust add-key <publisher.pub.json>   # the public key of ${keyId ?? 'its publisher'}, obtained from the publisher`],
      };
    case 'SONDE_ERR_PACK_KEY_REVOKED':
    case 'SONDE_ERR_PACK_VERSION_REVOKED':
      return {
        problem: `${code === 'SONDE_ERR_PACK_KEY_REVOKED' ? 'its signing key' : 'this version'} is revoked (${reason})`,
        fix: [`sonde packs update ${name}   # to a version that is not revoked`, `sonde packs remove ${name}   # if there is none`],
      };
    case 'SONDE_ERR_PACK_KEY_NOT_VALID':
      return {
        problem: `its signing key was not valid when it was signed (${reason})`,
        fix: [
          `sonde packs update ${name}   # to a version signed inside the key's window`,
          `sonde trust add-key <publisher.pub.json> --not-before <iso> --not-after <iso>   # if the window in trust.json is wrong`,
        ],
      };
    case 'SONDE_ERR_PACK_NOT_ALLOWED':
      return {
        problem: `the trust policy has no allow rule or pin for it (${reason})`,
        fix: [
          `sonde trust add-key <publisher.pub.json> --allow ${name}   # allows this publisher${keyId ? ` (${keyId})` : ''} to sign ${name}`,
        ],
      };
    case 'SONDE_ERR_PACK_DENIED':
      return {
        problem: `a deny rule of the trust policy refuses it (${reason})`,
        fix: [
          `sonde trust list   # shows the deny rule`,
          `remove that rule from policy.deny in SONDE_HOME/trust.json, or: sonde packs remove ${name}`,
        ],
      };
    case 'SONDE_ERR_PACK_PIN_MISMATCH':
      return {
        problem: `its content differs from the integrity pinned for this version (${reason})`,
        fix: [
          reinstallCommand(facts),
          `sonde trust pin ${name}@${listing.version} <integrity>   # only if the new content is the one you mean to pin`,
        ],
      };
    case 'SONDE_ERR_PACK_INVALID':
      if (/runs on the hub/.test(reason))
        return {
          problem: `it is an integration pack: it runs on the hub, not on an agent (${reason})`,
          fix: [`sonde packs remove ${name}   # and install it on the hub instead`],
        };
      return { problem: `it is not a valid agent pack (${reason})`, fix: [`sonde packs remove ${name}`] };
    default:
      return { problem: `it does not verify (${code}: ${reason})`, fix: [reinstallCommand(facts)] };
  }
}

/** Permission descriptions, with many argument shapes of one binary folded into one line (`details` keeps them all). */
export function compactPermissions(descriptions: string[]): string {
  const shapes = new Map<string, number>();
  for (const line of descriptions) {
    const binary = /^run (\S+)/.exec(line)?.[1];
    if (binary) shapes.set(binary, (shapes.get(binary) ?? 0) + 1);
  }
  const out: string[] = [];
  const folded = new Set<string>();
  for (const line of descriptions) {
    const binary = /^run (\S+)/.exec(line)?.[1];
    if (binary === undefined || (shapes.get(binary) ?? 0) <= 2) out.push(line);
    else if (!folded.has(binary)) {
      folded.add(binary);
      out.push(`run ${binary} (${shapes.get(binary) ?? 0} argument shapes)`);
    }
  }
  return out.length ? out.join('; ') : 'nothing';
}

function asks(manifest: PackManifest): string[] {
  return diffPermissions(undefined, manifest.permissions).added.map((change) => change.description);
}

/** Approval state and verification: pending, pending updates, refused versions, failed packs. */
export function diagnoseState(facts: PackFacts, trust: Pick<TrustFacts, 'storeExists'>): Finding[] {
  const { listing, manifest } = facts;
  const pack = listing.name;
  const out: Finding[] = [];
  if (listing.state === 'failed') {
    const code = listing.code ?? 'SONDE_ERR_PACK_MALFORMED';
    const { problem, fix } = verifyFix(code, listing.reason ?? '', facts, trust);
    const hub = code === 'SONDE_ERR_PACK_INVALID' && /runs on the hub/.test(listing.reason ?? '');
    out.push({
      pack,
      severity: 'error',
      code: hub ? 'hub-pack' : 'verify-failed',
      problem: `${listing.version} is refused at load: ${problem}`,
      fix,
      verifyCode: code,
    });
  } else if (listing.state === 'pending') {
    const stale = listing.approvedVersion === listing.version;
    const wanted = manifest ? asks(manifest) : [];
    const summary = manifest ? compactPermissions(wanted) : 'see sonde packs list --json';
    out.push({
      pack,
      severity: 'warn',
      code: stale ? 'approval-stale' : 'approval-pending',
      problem: stale
        ? `${listing.version} was approved, but its signed permissions differ from those approved: it does not serve until re-approved; it asks for: ${summary}`
        : `${listing.version} is installed but not approved, so it does not serve; it asks for: ${summary}`,
      fix: [`sonde packs approve ${pack}`],
      ...(wanted.length ? { details: wanted } : {}),
    });
  }
  const pending = listing.pending;
  if (pending) {
    if (pending.refused) {
      const { problem, fix } = verifyFix(
        pending.refused.code,
        pending.refused.reason,
        { ...facts, listing: { ...listing, version: pending.version } },
        trust,
      );
      const files = /FILE_|MANIFEST_MISMATCH|UNSIGNED|BAD_SIGNATURE|MALFORMED/.test(pending.refused.code);
      out.push({
        pack,
        severity: 'warn',
        code: 'update-refused',
        problem: `newer ${pending.version} is installed but refused, ${listing.version} keeps serving: ${problem}`,
        fix: files ? [`rm -rf ${q(pending.dir)}   # the refused copy only`, `sonde packs update ${pack}`] : fix,
        verifyCode: pending.refused.code,
      });
    } else {
      const adds = pending.added.length ? `it adds: ${compactPermissions(pending.added)}` : 'it adds nothing';
      const removes = pending.removed.length ? `; it drops: ${compactPermissions(pending.removed)}` : '';
      out.push({
        pack,
        severity: 'warn',
        code: 'update-pending',
        problem: `${pending.version} waits for approval while ${listing.version} keeps serving; ${adds}${removes}`,
        fix: [`sonde packs approve ${pack}`],
        details: [...pending.added.map((line) => `+ ${line}`), ...pending.removed.map((line) => `- ${line}`)],
      });
    }
  }
  return out;
}

/** Declared binaries not found on the agent's SAFE_PATH. */
export function diagnoseBinaries(facts: PackFacts): Finding[] {
  const entries = Object.entries(facts.binaries);
  const missing = entries.filter(([, found]) => found === null).map(([binary]) => binary);
  if (missing.length === 0) return [];
  // A pack that can still run some of its commands (mysql or mariadb; traceroute missing) is degraded, not broken.
  const severity: Severity = missing.length === entries.length ? 'error' : 'warn';
  return missing.map((binary) => ({
    pack: facts.listing.name,
    severity,
    code: 'binary-missing' as const,
    problem: `${binary} is not found on the agent's PATH (${binary.includes('/') ? binary : SAFE_PATH}); probes that run it fail${
      severity === 'warn' ? `, the others work` : ''
    }`,
    fix: [installCommand(binary)],
  }));
}

/** Declared groups the agent user (or the running agent) lacks. */
export function diagnoseGroups(pack: string, manifest: PackManifest, user: UserFacts, agent: AgentFacts): Finding[] {
  const out: Finding[] = [];
  for (const group of manifest.permissions.groups) {
    const member = user.groups.includes(group);
    const viaService = user.serviceGroups?.includes(group) ?? false;
    if (agent.running && agent.groups) {
      if (agent.groups.includes(group)) continue;
      if (member || viaService) {
        out.push({
          pack,
          severity: 'error',
          code: 'group-not-active',
          problem: `${member ? `${user.user} is in group ${group}` : `sonde.service grants group ${group} (SupplementaryGroups=)`}, but the running agent (pid ${agent.pid ?? '?'}) started before that and lacks it`,
          fix: [RESTART],
        });
        continue;
      }
    } else if (member || viaService) continue;
    if (!user.existingGroups.includes(group)) {
      out.push({
        pack,
        severity: 'warn',
        code: 'group-absent',
        problem: `group ${group} does not exist on this host: the software it grants access to is probably not installed (its package creates the group)`,
        fix: [
          ...(group === 'docker' ? [installCommand('docker')] : []),
          `sudo usermod -aG ${group} ${user.user} && ${RESTART}   # once the group exists`,
        ],
      });
      continue;
    }
    out.push({
      pack,
      severity: 'error',
      code: 'group-missing',
      problem: `the ${user.user} user is not in group ${group}, which the pack declares: probes that need it are refused by the OS`,
      fix: [`sudo usermod -aG ${group} ${user.user} && ${RESTART}`],
    });
  }
  return out;
}

/** Declared files and folders this user cannot read. */
export function diagnoseFiles(pack: string, manifest: PackManifest, files: FileFact[], user: UserFacts): Finding[] {
  const out: Finding[] = [];
  for (const fact of files) {
    if (!fact.baseExists || fact.unreadable.length === 0) continue;
    const wildcard = fact.glob !== fact.base;
    const fixes = new Set<string>();
    for (const entry of fact.unreadable) {
      if (entry.groupReadable && manifest.permissions.groups.includes(entry.group) && !user.groups.includes(entry.group)) {
        fixes.add(`sudo usermod -aG ${entry.group} ${user.user} && ${RESTART}`);
      } else if (entry.directory) {
        // A folder: read it and what is in it, and what is created in it later (rotated logs).
        const dir = q(entry.path);
        fixes.add(`sudo setfacl -R -m u:${user.user}:rX ${dir} && sudo setfacl -d -m u:${user.user}:rX ${dir}`);
      } else {
        fixes.add(`sudo setfacl -m u:${user.user}:r ${q(entry.path)}`);
        if (wildcard) fixes.add(`sudo setfacl -d -m u:${user.user}:rX ${q(path.dirname(entry.path))}   # files created later`);
      }
    }
    const shown = fact.unreadable.map((entry) => `${entry.path}${entry.directory ? '/' : ''} (group ${entry.group})`).join(', ');
    out.push({
      pack,
      severity: 'warn',
      code: 'file-unreadable',
      problem: `${user.user} cannot read ${shown}, declared as ${fact.glob}`,
      fix: [...fixes],
    });
  }
  return out;
}

const CODE_DIFFERS = /declares other permissions/;

/** What the running agent reports beyond what the store shows: quarantine, sandbox and load failures. */
export function diagnoseRuntime(pack: string, agent: AgentFacts): Finding[] {
  const status = agent.packs.find((entry) => entry.name === pack);
  if (!agent.running || !status?.reason) return [];
  const reason = status.reason;
  if (status.state === 'failed' && reason.startsWith('quarantined')) {
    return [
      {
        pack,
        severity: 'error',
        code: 'sandbox-quarantined',
        problem: `the running agent quarantined it: ${reason}`,
        fix: [`sonde audit --limit 100   # what tripped, and when`, `sonde packs approve ${pack}   # releases it once you know why`],
      },
    ];
  }
  if (status.state === 'failed' && reason.startsWith('sandbox start failed')) {
    const links = /symlink|hard link|hard-link/i.test(reason);
    return [
      {
        pack,
        severity: 'error',
        code: 'sandbox-failed',
        problem: `the running agent could not start its sandboxed process: ${reason}`,
        fix: links
          ? [`sonde packs remove ${pack} && sonde packs install <source>   # a link leaves the pack's folder`]
          : [`journalctl -u sonde -n 50   # the agent's log`, `sonde packs approve ${pack}   # starts a new process`],
      },
    ];
  }
  if (status.state === 'failed' && reason.startsWith('load failed')) {
    return [
      {
        pack,
        severity: 'error',
        code: 'load-failed',
        problem: `the running agent could not load it: ${reason}`,
        fix: [
          `journalctl -u sonde -n 50   # the agent's log`,
          `sonde packs update ${pack}   # a fixed version, or remove it: sonde packs remove ${pack}`,
        ],
      },
    ];
  }
  if (status.state === 'pending' && CODE_DIFFERS.test(reason)) {
    return [
      {
        pack,
        severity: 'error',
        code: 'code-differs',
        problem: `the running agent keeps it pending: ${reason}`,
        fix: [`sonde packs update ${pack}   # a version whose code matches its manifest, or: sonde packs remove ${pack}`],
      },
    ];
  }
  return [];
}

/** Everything about one pack. */
export function diagnosePack(facts: PackFacts, host: Pick<DoctorFacts, 'user' | 'agent' | 'trust'>): Finding[] {
  const findings = [...diagnoseState(facts, host.trust)];
  if (facts.manifest) {
    findings.push(...diagnoseBinaries(facts));
    findings.push(...diagnoseGroups(facts.listing.name, facts.manifest, host.user, host.agent));
    findings.push(...diagnoseFiles(facts.listing.name, facts.manifest, facts.files, host.user));
  }
  findings.push(...diagnoseRuntime(facts.listing.name, host.agent));
  return findings;
}

/** The sysctl (or package) that brings unprivileged user namespaces back. */
export function namespaceFixes(facts: IsolationFacts): string[] {
  const { sysctl } = facts;
  const persist = (setting: string): string =>
    `sudo sysctl -w ${setting} && echo ${setting} | sudo tee /etc/sysctl.d/60-sonde-userns.conf && ${RESTART}`;
  if (!facts.unshareFound) return ['sudo apt-get install util-linux   # provides unshare'];
  const fixes: string[] = [];
  if (sysctl.unprivilegedUsernsClone === 0) fixes.push(persist('kernel.unprivileged_userns_clone=1'));
  if (sysctl.maxUserNamespaces === 0) fixes.push(persist('user.max_user_namespaces=15000'));
  if (sysctl.apparmorRestrictUnprivilegedUserns === 1)
    fixes.push(`${persist('kernel.apparmor_restrict_unprivileged_userns=0')}   # or an AppArmor profile that allows userns for unshare`);
  if (fixes.length === 0)
    fixes.push(
      'the kernel knobs allow user namespaces: a container or seccomp policy blocks them here (run the agent on the host, or allow unshare(CLONE_NEWUSER) for it)',
    );
  return fixes;
}

/** Trust store, isolation and the running agent: what concerns every pack. */
export function diagnoseHost(facts: Pick<DoctorFacts, 'trust' | 'isolation' | 'agent'>): Finding[] {
  const out: Finding[] = [];
  const { trust, isolation, agent } = facts;
  if (!trust.ok) {
    const revocations = /revocations\.json/.test(trust.reason ?? '');
    out.push({
      pack: HOST,
      severity: 'error',
      code: 'trust-invalid',
      problem: `the trust material does not load, so no pack can be verified or served: ${trust.reason ?? 'invalid'}`,
      fix: revocations
        ? [
            `sonde trust add-key <hub.pub.json> --role hub   # if the hub key that signs revocations is missing`,
            `sonde trust revocations <revocations.json>   # a valid list from the hub (GET /api/v1/revocations); the hub also re-sends it on connect`,
          ]
        : [
            `mv ${q(trust.file)} ${q(`${trust.file}.broken`)} && sonde trust add-key <publisher.pub.json>   # then re-add each key and rule`,
          ],
    });
  }
  if (!agent.running) {
    out.push({
      pack: HOST,
      severity: 'warn',
      code: 'agent-not-running',
      problem: 'no running agent: nothing serves, and what only the running agent knows (quarantine, sandbox start) is not checked',
      fix: ['sudo systemctl start sonde   # or: sonde start'],
    });
  }
  if (isolation.mode === 'in-process') {
    out.push({
      pack: HOST,
      severity: 'warn',
      code: 'isolation-in-process',
      problem: 'packs run inside the agent process (config sandbox.mode "in-process"): a pack that bypasses its context is not contained',
      fix: [`set "sandbox": { "mode": "process" } in SONDE_HOME/config.json, then ${RESTART}`],
    });
    return out;
  }
  if (isolation.namespaces === 'none') {
    out.push({
      pack: HOST,
      severity: 'warn',
      code: 'isolation-namespaces-off',
      problem: 'namespaces are turned off (config sandbox.namespaces "none"): packs run with Node’s permission model only',
      fix: [`set "sandbox": { "namespaces": "auto" } in SONDE_HOME/config.json, then ${RESTART}`],
    });
  } else {
    const agentDegraded = agent.running && agent.isolation !== undefined && !agent.isolation.includes('userns');
    if (!isolation.userNamespaces) {
      out.push({
        pack: HOST,
        severity: 'warn',
        code: 'isolation-degraded',
        problem:
          'unprivileged user namespaces are not available: packs run with Node’s permission model only, without their own user, PID and network namespaces (a pack could see other processes and open network connections)',
        fix: namespaceFixes(isolation),
      });
    } else if (agentDegraded) {
      out.push({
        pack: HOST,
        severity: 'warn',
        code: 'isolation-degraded',
        problem: `the running agent reports "${agent.isolation ?? ''}" although this user can create namespaces: the service (or the agent started before they were enabled) lacks them`,
        fix: [
          `systemctl cat sonde | grep -i -e RestrictNamespaces -e PrivateUsers   # user, net and pid namespaces must be allowed`,
          RESTART,
        ],
      });
    }
  }
  if (!isolation.setprivWorks) {
    out.push({
      pack: HOST,
      severity: 'warn',
      code: 'setpriv-missing',
      problem: 'setpriv is missing: a pack process is not killed with the agent and may gain privileges through setuid programs',
      fix: ['sudo apt-get install util-linux   # provides setpriv'],
    });
  }
  return out;
}

function worst(findings: Finding[]): Severity {
  if (findings.some((finding) => finding.severity === 'error')) return 'error';
  if (findings.some((finding) => finding.severity === 'warn')) return 'warn';
  return 'ok';
}

/** The whole report: host findings, then one group per pack (an `ok` finding when nothing is wrong). */
export function diagnose(facts: DoctorFacts): DoctorReport {
  const host = diagnoseHost(facts);
  const packs: PackReport[] = facts.packs.map((pack) => {
    const found = facts.trust.ok ? diagnosePack(pack, facts) : [];
    if (!facts.trust.ok)
      found.push({
        pack: pack.listing.name,
        severity: 'error',
        code: 'trust-invalid',
        problem: 'cannot be verified while the trust material does not load (see *)',
        fix: [],
      });
    const findings: Finding[] = found.length
      ? found
      : [
          {
            pack: pack.listing.name,
            severity: 'ok',
            code: 'ok',
            problem: `${pack.listing.version} ${pack.listing.state}: nothing to fix`,
            fix: [],
          },
        ];
    return {
      name: pack.listing.name,
      packageName: pack.listing.packageName,
      version: pack.listing.version,
      state: facts.trust.ok ? pack.listing.state : 'unknown',
      severity: worst(findings),
      findings,
    };
  });
  const all = [...host, ...packs.flatMap((pack) => pack.findings)];
  const severity = worst(all);
  return { ok: severity !== 'error', severity, user: facts.user.user, host, packs, findings: all };
}

const MARK: Record<Severity, string> = { error: '✗', warn: '!', ok: '✓' };

/** Text output, grouped per pack (host-wide findings first). */
export function renderReport(report: DoctorReport): string[] {
  const lines: string[] = [];
  const block = (findings: Finding[]): void => {
    for (const finding of findings) {
      lines.push(
        `  ${MARK[finding.severity]} ${finding.severity} ${finding.code}${finding.verifyCode ? ` (${finding.verifyCode})` : ''}: ${finding.problem}`,
      );
      for (const fix of finding.fix) lines.push(`      fix: ${fix}`);
    }
  };
  if (report.host.length) {
    lines.push(`host (every pack) — ${worst(report.host)}`);
    block(report.host);
  }
  for (const pack of report.packs) {
    lines.push(`${pack.name} ${pack.version} (${pack.packageName}) ${pack.state} — ${pack.severity}`);
    block(pack.findings);
  }
  if (report.packs.length === 0) lines.push('No packs installed. Try: sonde packs scan');
  const errors = report.findings.filter((finding) => finding.severity === 'error').length;
  const warnings = report.findings.filter((finding) => finding.severity === 'warn').length;
  lines.push(`${errors} error(s), ${warnings} warning(s).`);
  return lines;
}

// ---------------------------------------------------------------- gathering (reads the host)

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where a declared binary resolves on the agent's SAFE_PATH (the only PATH probes get), or null. */
export function findBinary(binary: string, searchPath: string = SAFE_PATH): string | null {
  if (binary.includes('/')) return executable(binary) ? binary : null;
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(dir, binary);
    if (executable(candidate)) return candidate;
  }
  return null;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parseGroupFile(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, , gid, members] = line.split(':');
    if (!name || gid === undefined) continue;
    out.push({ name, gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) });
  }
  return out;
}

function readGroups(file = '/etc/group'): GroupEntry[] {
  try {
    return parseGroupFile(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

function groupName(gid: number, groups: GroupEntry[]): string {
  return groups.find((entry) => entry.gid === gid)?.name ?? String(gid);
}

export function gatherUser(groupFile = '/etc/group'): UserFacts {
  const groups = readGroups(groupFile);
  const info = os.userInfo();
  const names = new Set<string>();
  names.add(groupName(info.gid, groups));
  for (const entry of groups) if (entry.members.includes(info.username)) names.add(entry.name);
  for (const gid of process.getgroups?.() ?? []) names.add(groupName(gid, groups));
  const serviceGroups = gatherServiceGroups();
  return {
    user: info.username,
    groups: [...names].sort(),
    existingGroups: groups.map((entry) => entry.name),
    ...(serviceGroups ? { serviceGroups } : {}),
  };
}

/**
 * `SupplementaryGroups=` as systemd reads it: assignments accumulate, an empty one resets the list.
 * `texts` are the unit file then its drop-ins, in the order systemd applies them.
 */
export function supplementaryGroups(texts: string[]): string[] {
  let groups: string[] = [];
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const match = /^\s*SupplementaryGroups\s*=(.*)$/.exec(line);
      if (!match) continue;
      const values = (match[1] ?? '').trim().split(/\s+/).filter(Boolean);
      groups = values.length === 0 ? [] : [...groups, ...values];
    }
  }
  return [...new Set(groups)];
}

const UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
];

/** The installed sonde.service's supplementary groups, or undefined when no such unit is installed. */
export function gatherServiceGroups(unit = 'sonde.service', dirs: string[] = UNIT_DIRS): string[] | undefined {
  const main = dirs.map((dir) => path.join(dir, unit)).find((file) => existsSync(file));
  if (!main) return undefined;
  const dropIns = new Map<string, string>();
  for (const dir of [...dirs].reverse()) {
    const folder = path.join(dir, `${unit}.d`);
    let names: string[] = [];
    try {
      names = readdirSync(folder).filter((name) => name.endsWith('.conf'));
    } catch {
      continue;
    }
    // A drop-in of the same name in a higher-priority folder replaces the lower one.
    for (const name of names) dropIns.set(name, path.join(folder, name));
  }
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const ordered = [...dropIns.keys()].sort().map((name) => read(dropIns.get(name) ?? ''));
  return supplementaryGroups([read(main), ...ordered]);
}

/** Supplementary groups of a running process (/proc/<pid>/status), as names. */
export function processGroups(pid: number, groupFile = '/etc/group'): string[] | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('Groups:'));
    if (line === undefined) return undefined;
    const groups = readGroups(groupFile);
    const gid = /^Gid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const names = line
      .slice('Groups:'.length)
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((value) => groupName(Number(value), groups));
    if (gid !== undefined) names.push(groupName(Number(gid), groups));
    return [...new Set(names)].sort();
  } catch {
    return undefined;
  }
}

const GLOB_CHARS = /[*?[{]/;
const WALK_LIMIT = 2000;
const SHOWN_UNREADABLE = 5;

export function globBase(glob: string): string {
  const segments = glob.split('/');
  const index = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  if (index === -1) return glob;
  return segments.slice(0, index).join('/') || '/';
}

function pathFact(file: string, groups: GroupEntry[]): PathFact {
  const info = statSync(file);
  const directory = info.isDirectory();
  const groupBits = directory ? 0o050 : 0o040;
  return { path: file, directory, group: groupName(info.gid, groups), groupReadable: (info.mode & groupBits) === groupBits };
}

function readable(file: string, directory: boolean): boolean {
  try {
    accessSync(file, directory ? constants.R_OK | constants.X_OK : constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export function gatherFile(glob: string, groupFile = '/etc/group'): FileFact {
  const groups = readGroups(groupFile);
  const base = globBase(glob);
  const fact: FileFact = { glob, base, baseExists: existsSync(base), matched: 0, unreadable: [] };
  if (!fact.baseExists) return fact;
  const note = (file: string): void => {
    const info = pathFact(file, groups);
    if (!readable(file, info.directory) && fact.unreadable.length < SHOWN_UNREADABLE) fact.unreadable.push(info);
  };
  if (base === glob) {
    fact.matched = 1;
    note(base);
    return fact;
  }
  const baseInfo = pathFact(base, groups);
  if (!readable(base, true)) {
    fact.unreadable.push(baseInfo);
    return fact;
  }
  // The permission guard's own matcher: what the doctor counts as matched is what the pack will be allowed to read.
  const matches = globMatcher(glob);
  const deep = glob.includes('**');
  const depth = glob.split('/').length;
  let seen = 0;
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++seen > WALK_LIMIT) return;
      const full = path.join(dir, entry.name);
      if (matches(full)) {
        fact.matched++;
        note(full);
      }
      if (entry.isDirectory() && (deep || full.split('/').length < depth)) {
        if (readable(full, true)) walk(full);
        else if (!matches(full)) note(full);
      }
    }
  };
  walk(base);
  return fact;
}

function readSysctl(file: string): number | undefined {
  try {
    const value = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function gatherSysctls(): IsolationFacts['sysctl'] {
  const out: IsolationFacts['sysctl'] = {};
  const clone = readSysctl('/proc/sys/kernel/unprivileged_userns_clone');
  const max = readSysctl('/proc/sys/user/max_user_namespaces');
  const apparmor = readSysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  if (clone !== undefined) out.unprivilegedUsernsClone = clone;
  if (max !== undefined) out.maxUserNamespaces = max;
  if (apparmor !== undefined) out.apparmorRestrictUnprivilegedUserns = apparmor;
  return out;
}

/** Binaries and files of a manifest, as facts. */
export function gatherPackFacts(listing: PackListing, manifest: PackManifest | undefined, source: PackFacts['source']): PackFacts {
  const binaries: Record<string, string | null> = {};
  const files: FileFact[] = [];
  if (manifest) {
    for (const command of manifest.permissions.commands) binaries[command.binary] = findBinary(command.binary);
    for (const glob of manifest.permissions.files) files.push(gatherFile(glob));
  }
  return { listing, ...(manifest ? { manifest } : {}), ...(source ? { source } : {}), binaries, files };
}
