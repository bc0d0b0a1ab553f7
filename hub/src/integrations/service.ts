import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { permissionsDigest, SondeError, type PackManifest } from '@sonde/pack-sdk';
import { createScrubber } from '@sonde/pack-sdk/scrubber';
import {
  compareVersions,
  decideUpgrade,
  diffPermissions,
  fetchPackTarball,
  installVerifiedPack,
  isDowngrade,
  isRegistryError,
  loadTrust,
  readJsonFile,
  verifyInstalled,
  verifyPackDir,
  verifyPackTarball,
  type PermissionDiff,
  type RevocationList,
  type Trust,
  type VerifiedPack,
  type VerifyFailure,
} from '@sonde/registry';
import type { Sealer } from '../crypto/index.js';
import { HubError } from '../errors.js';
import type { AuditEntryInput, AuditLog, Principal } from '../services.js';
import type { HubStore, IntegrationInstanceRecord, IntegrationPackVersionRecord } from '../store/types.js';
import { isIntegrationErrorCode } from './codes.js';
import { InstanceRunners, type RunnerFactoryOptions } from './runners.js';
import { pickConnectionProbe, judgeConnection } from './connection.js';
import type { ActivePack } from './types.js';

/**
 * Integration packs on the hub: install (verify, then write only the verified
 * files), approve, update and remove; instances with sealed credentials; and
 * probe runs in one sandboxed process per instance. Every pack is verified
 * again at every load (start, reload) against the trust store, and a pack
 * whose files, integrity or permissions no longer match what was approved is
 * refused until an operator acts.
 */

export interface Actor {
  kind: AuditEntryInput['actor']['kind'];
  id: string | null;
  name: string | null;
}

export function actorOf(principal: Principal): Actor {
  return { kind: principal.kind, id: principal.id, name: principal.name };
}

const SYSTEM: Actor = { kind: 'system', id: null, name: 'hub' };

export interface IntegrationServiceOptions {
  store: HubStore;
  sealer: Sealer;
  audit: AuditLog;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  trustFile: string;
  packsDir: string;
  /** Host paths a pack may never read whatever it declares (database, secret material). */
  deniedPaths: readonly string[];
  runner?: Omit<RunnerFactoryOptions, 'packsDir' | 'deniedPaths' | 'onSecurityEvent'>;
  /**
   * The hub's own signed revocation list (hub/src/revocations), applied at every load on top of the trust
   * store (its signing key is added to `hubKeys`); a new list reloads, so a revoked key or version stops serving at once.
   */
  revocations?: HubRevocations;
}

export interface HubRevocations {
  current(): Promise<RevocationList | undefined>;
  publicKey(): { keyId: string; publicKey: string };
  onChange(listener: (list: RevocationList) => void): () => void;
}

export type { ActivePack } from './types.js';

export interface Refusal {
  code: string;
  reason: string;
  file?: string;
}

export type PackState = 'active' | 'pending' | 'refused';

export interface VersionView {
  version: string;
  integrity: string;
  keyId: string;
  publishedAt: string;
  installedAt: string;
  state: IntegrationPackVersionRecord['state'];
  permissionsDigest: string;
  /** Why this version does not verify (at the last load or install). */
  refused: Refusal | null;
}

export interface PackView {
  name: string;
  packageName: string;
  state: PackState;
  /** The version serving (approved and verified), if any. */
  activeVersion: string | null;
  approvedVersion: string | null;
  approvedAt: string | null;
  approvedBy: string | null;
  description: string;
  probes: string[];
  permissions: PackManifest['permissions'] | null;
  /** The newest pending version and what it adds or removes compared with the approved one (everything, for a first install). */
  pending: { version: string; diff: PermissionDiff } | null;
  refused: Refusal | null;
  versions: VersionView[];
  instances: string[];
}

export interface InstanceView {
  id: string;
  name: string;
  pack: string;
  endpoint: string;
  /** Names of the credentials set; their values are never returned. */
  credentialNames: string[];
  status: IntegrationInstanceRecord['status'];
  lastError: string | null;
  lastCheckedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface InstallInput {
  /** npm spec (`@sonde/pack-prometheus@^1`), resolved by `npm pack` with the hub's .npmrc. */
  spec?: string;
  /** Server-side path to an unpacked pack folder or a .tgz. */
  path?: string;
  allowDowngrade?: boolean;
}

export interface InstallOutcome {
  pack: PackView;
  version: string;
  /** active: serving now (same or fewer permissions than approved); pending: waits for approval; unchanged: already installed. */
  outcome: 'pending' | 'active' | 'unchanged';
  diff: PermissionDiff;
}

export interface InstanceInput {
  name: string;
  pack: string;
  endpoint: string;
  credentials?: Record<string, string>;
}

export interface ProbeRunOutcome {
  instance: string;
  probe: string;
  result: unknown;
  durationMs: number;
  redactions: number;
}

const EMPTY_TRUST_STORE = { type: 'sonde-trust-store', keys: [] };

function refusalOf(failure: VerifyFailure): Refusal {
  return { code: failure.code, reason: failure.reason, ...(failure.file ? { file: failure.file } : {}) };
}

function throwRefusal(refusal: Refusal): never {
  if (isIntegrationErrorCode(refusal.code)) throw new HubError(refusal.code, `${refusal.code}: ${refusal.reason}`);
  throw new HubError('SONDE_ERR_BAD_REQUEST', `${refusal.code}: ${refusal.reason}`);
}

/** Deep copy with every occurrence of a secret value replaced: a pack must not echo the instance's credentials. */
function redactValues(value: unknown, secrets: string[]): { value: unknown; count: number } {
  let count = 0;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      let out = node;
      for (const secret of secrets) {
        if (out.includes(secret)) {
          count++;
          out = out.split(secret).join('[REDACTED]');
        }
      }
      return out;
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return { value: walk(value), count };
}

/** A concurrent approval (another admin, another hub) changed what this one was based on. */
const approvedMeanwhile = (pack: string): HubError =>
  new HubError('SONDE_ERR_CONFLICT', `the approval of ${pack} changed meanwhile; read the pack again and retry`);

export class IntegrationService {
  private trust: Trust = loadTrust(EMPTY_TRUST_STORE);
  /** Why nothing is trusted (missing or invalid trust file); appended to every refusal. */
  private trustProblem: Refusal | undefined;
  private readonly active = new Map<string, ActivePack>();
  /** Refusals by `name` (the approved version) and `name@version` (any version). */
  private readonly refusals = new Map<string, Refusal>();
  private readonly runners: InstanceRunners;
  private readonly scrubber = createScrubber();
  private readonly storeDir: string;
  private loading: Promise<void> | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  /** Instance names and packs, kept in memory for the MCP catalog (refreshed on every change made here and at load). */
  private targets: Array<{ name: string; pack: string }> = [];

  constructor(private readonly options: IntegrationServiceOptions) {
    this.storeDir = path.join(options.packsDir, 'store');
    this.unsubscribe = options.revocations?.onChange(() => {
      this.load('reload').catch((error: unknown) => options.log.error({ err: error }, 'integration reload after a revocation failed'));
    });
    this.runners = new InstanceRunners({
      ...options.runner,
      packsDir: options.packsDir,
      deniedPaths: options.deniedPaths,
      onSecurityEvent: (event) =>
        void this.audit(SYSTEM, {
          action: 'integration.security',
          status: 'denied',
          probe: event.probe ? `${event.pack ?? '?'}.${event.probe}` : null,
          detail: `${event.kind}: ${event.detail}`.slice(0, 1000),
        }).catch((err: unknown) => options.log.error({ err }, 'could not audit an integration security event')),
    });
  }

  get packsDir(): string {
    return this.options.packsDir;
  }

  get isolation(): string {
    return this.runners.isolation;
  }

  /** At hub start: a full load. The packs folder and the host packages are made on first use, so a hub without integrations writes nothing. */
  async start(): Promise<void> {
    await this.load('start');
  }

  /** Re-reads the trust store and verifies every installed version again (hub start and `POST …/reload`). */
  load(reason: 'start' | 'reload' = 'reload', actor: Actor = SYSTEM): Promise<void> {
    const run = (this.loading ?? Promise.resolve()).then(() => this.loadNow(reason, actor));
    this.loading = run.catch(() => undefined);
    return run;
  }

  /** The trust store with the hub's revocation list (and the key that signs it) applied. */
  private async compile(store: unknown): Promise<Trust> {
    const list = await this.options.revocations?.current();
    if (list === undefined || !store || typeof store !== 'object') return loadTrust(store);
    const hubKey = this.options.revocations!.publicKey();
    const hubKeys = ((store as { hubKeys?: Array<{ keyId: string }> }).hubKeys ?? []).filter((k) => k.keyId !== hubKey.keyId);
    return loadTrust({ ...store, hubKeys: [...hubKeys, { keyId: hubKey.keyId, publicKey: hubKey.publicKey }] }, { revocations: list });
  }

  private async readTrust(): Promise<void> {
    const file = this.options.trustFile;
    if (!existsSync(file)) {
      this.trust = await this.compile(EMPTY_TRUST_STORE);
      this.trustProblem = {
        code: 'SONDE_ERR_PACK_UNKNOWN_KEY',
        reason: `no trust store at ${file}, so no publisher is trusted: create it with \`sonde-registry trust init --out ${file}\`, trust the publisher with \`sonde-registry trust add-key ${file} --key <publisher.pub.json> --allow '<pack>'\`, then POST /api/v1/integrations/reload`,
      };
      return;
    }
    try {
      this.trust = await this.compile(await readJsonFile(file, 'SONDE_ERR_TRUST_INVALID'));
      this.trustProblem = undefined;
    } catch (error) {
      this.trust = loadTrust(EMPTY_TRUST_STORE);
      const message = error instanceof Error ? error.message : String(error);
      this.trustProblem = {
        code: isRegistryError(error) ? error.code : 'SONDE_ERR_TRUST_INVALID',
        reason: `the trust store ${file} is not usable (${message}); every integration pack is refused until it is fixed`,
      };
    }
  }

  /** A refusal, with the trust store's problem when that is the cause. */
  private withTrustHint(refusal: Refusal): Refusal {
    if (!this.trustProblem) return refusal;
    if (this.trustProblem.code === 'SONDE_ERR_TRUST_INVALID') return this.trustProblem;
    if (refusal.code === 'SONDE_ERR_PACK_UNKNOWN_KEY' || refusal.code === 'SONDE_ERR_PACK_NOT_ALLOWED')
      return { ...refusal, reason: `${refusal.reason}; ${this.trustProblem.reason}` };
    return refusal;
  }

  private async loadNow(reason: string, actor: Actor): Promise<void> {
    await this.readTrust();
    const { integrations } = this.options.store;
    const before = new Map(this.active);
    this.active.clear();
    this.refusals.clear();
    await this.refreshTargets();
    for (const pack of await integrations.listPacks()) {
      for (const version of await integrations.listVersions(pack.name)) {
        const refusal = await this.verifyStored(version);
        const isApproved = version.version === pack.approvedVersion;
        if (refusal) {
          this.refusals.set(`${version.name}@${version.version}`, refusal);
          if (isApproved) this.refusals.set(pack.name, refusal);
          await this.audit(actor, {
            action: 'integration.refused',
            status: 'error',
            params: { pack: version.name, version: version.version, code: refusal.code, file: refusal.file ?? null, at: reason },
            detail: `${refusal.code}: ${refusal.reason}`.slice(0, 1000),
          });
          this.options.log.warn({ pack: version.name, version: version.version, code: refusal.code }, 'integration pack refused');
          continue;
        }
        if (isApproved) {
          if (version.permissionsDigest !== pack.approvedDigest) {
            const mismatch: Refusal = {
              code: 'SONDE_ERR_PACK_MANIFEST_MISMATCH',
              reason: `${pack.name}@${version.version} declares other permissions than were approved; approve it again`,
            };
            this.refusals.set(pack.name, mismatch);
            continue;
          }
          this.active.set(pack.name, {
            name: pack.name,
            version: version.version,
            packageName: version.packageName,
            dir: version.dir,
            manifest: version.manifest,
            digest: version.permissionsDigest,
            approvedAt: pack.approvedAt ?? '',
          });
        }
      }
    }
    // Instances of packs that stopped serving (or changed version) lose their process.
    for (const [name, previous] of before) {
      const now = this.active.get(name);
      if (!now || now.version !== previous.version || now.digest !== previous.digest) await this.runners.closePack(name);
    }
  }

  /** The stored version still verifies, with the integrity and manifest recorded at install. */
  private async verifyStored(version: IntegrationPackVersionRecord): Promise<Refusal | undefined> {
    if (!existsSync(version.dir))
      return {
        code: 'SONDE_ERR_PACK_FILE_REMOVED',
        reason: `${version.dir} is missing; install ${version.packageName}@${version.version} again`,
      };
    const result = await verifyInstalled(version.dir, this.trust);
    if (!result.ok) return this.withTrustHint(refusalOf(result));
    if (result.integrity !== version.integrity || result.pack !== version.name || result.version !== version.version)
      return {
        code: 'SONDE_ERR_PACK_FILE_CHANGED',
        reason: `${version.dir} now holds ${result.packageName}@${result.version} (${result.integrity}), not what was installed (${version.integrity})`,
      };
    if (permissionsDigest(result.manifest.permissions) !== version.permissionsDigest)
      return {
        code: 'SONDE_ERR_PACK_MANIFEST_MISMATCH',
        reason: `${version.dir}: the signed permissions differ from those recorded at install`,
      };
    return undefined;
  }

  /** Audited in `tx` when given (it commits with the change), else on its own. */
  private async audit(actor: Actor, entry: Omit<AuditEntryInput, 'actor'>, tx?: HubStore): Promise<void> {
    await this.options.audit.append({ ...entry, actor }, tx);
  }

  private async refreshTargets(): Promise<void> {
    this.targets = (await this.options.store.integrations.listInstances()).map((r) => ({ name: r.name, pack: r.pack }));
  }

  // ---------------------------------------------------------------- packs

  async list(): Promise<PackView[]> {
    const packs = await this.options.store.integrations.listPacks();
    return Promise.all(packs.map((pack) => this.view(pack.name)));
  }

  async get(name: string): Promise<PackView> {
    if (!(await this.options.store.integrations.getPack(name)))
      throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no integration pack ${name}`);
    return this.view(name);
  }

  activePacks(): ActivePack[] {
    return [...this.active.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  activePack(name: string): ActivePack | undefined {
    return this.active.get(name);
  }

  private async view(name: string): Promise<PackView> {
    const { integrations } = this.options.store;
    const pack = (await integrations.getPack(name))!;
    const versions = await integrations.listVersions(name);
    const instances = await integrations.listInstances(name);
    const approved = versions.find((v) => v.version === pack.approvedVersion);
    const pending = versions.filter((v) => v.state === 'pending').sort((a, b) => compareVersions(b.version, a.version))[0];
    const active = this.active.get(name);
    const refused = this.refusals.get(name) ?? null;
    const shown = active?.manifest ?? approved?.manifest ?? pending?.manifest;
    const state: PackState = active ? 'active' : refused ? 'refused' : pending ? 'pending' : 'refused';
    return {
      name,
      packageName: pack.packageName,
      state,
      activeVersion: active?.version ?? null,
      approvedVersion: pack.approvedVersion,
      approvedAt: pack.approvedAt,
      approvedBy: pack.approvedBy,
      description: shown?.description ?? '',
      probes: (shown?.probes ?? []).map((p) => p.name),
      permissions: shown?.permissions ?? null,
      pending: pending
        ? { version: pending.version, diff: diffPermissions(approved?.manifest.permissions, pending.manifest.permissions) }
        : null,
      refused: refused ?? (active || pending ? null : { code: 'SONDE_ERR_CONFLICT', reason: 'no approved or pending version' }),
      versions: versions.map((v) => ({
        version: v.version,
        integrity: v.integrity,
        keyId: v.keyId,
        publishedAt: v.publishedAt,
        installedAt: v.installedAt,
        state: v.state,
        permissionsDigest: v.permissionsDigest,
        refused: this.refusals.get(`${v.name}@${v.version}`) ?? null,
      })),
      instances: instances.map((i) => i.name),
    };
  }

  /**
   * Installs one version: fetched with `npm pack` (spec) or taken from a
   * server-side folder or tarball, verified in memory, written to
   * `<packsDir>/store/<package>/<version>/`. A first version waits for
   * approval; an update with the same or fewer permissions than the approved
   * version activates at once; one with more waits while the approved version
   * keeps serving. An older version than the approved one is refused unless
   * `allowDowngrade`.
   */
  async install(input: InstallInput, actor: Actor): Promise<InstallOutcome> {
    const what = input.spec ?? input.path ?? '';
    try {
      return await this.installNow(input, actor);
    } catch (error) {
      const code = error instanceof HubError ? error.code : isRegistryError(error) ? error.code : 'SONDE_ERR_INTERNAL';
      await this.audit(actor, {
        action: 'integration.install',
        status: 'error',
        params: { source: what, allowDowngrade: input.allowDowngrade ?? false, code },
        detail: (error instanceof Error ? error.message : String(error)).slice(0, 1000),
      });
      if (isRegistryError(error) && isIntegrationErrorCode(error.code)) throw new HubError(error.code, `${error.code}: ${error.message}`);
      throw error;
    }
  }

  private async installNow(input: InstallInput, actor: Actor): Promise<InstallOutcome> {
    await this.readTrust();
    mkdirSync(this.storeDir, { recursive: true, mode: 0o755 });
    let source: { dir: string } | { tarball: string };
    let cleanup = async (): Promise<void> => {};
    if (input.path !== undefined) {
      const resolved = path.resolve(input.path);
      let info;
      try {
        info = statSync(resolved);
      } catch {
        throw new HubError('SONDE_ERR_BAD_REQUEST', `no file or folder at ${resolved} on the hub`);
      }
      source = info.isDirectory() ? { dir: resolved } : { tarball: resolved };
    } else if (input.spec !== undefined) {
      const fetched = await fetchPackTarball(input.spec, { cwd: this.options.packsDir, timeoutMs: 120_000 });
      source = { tarball: fetched.tarball };
      cleanup = fetched.cleanup;
    } else {
      throw new HubError('SONDE_ERR_VALIDATION', 'give `spec` (an npm package spec) or `path` (a folder or .tgz on the hub)');
    }
    try {
      // Verified first (in memory) to refuse a downgrade before anything is written.
      const checked = 'dir' in source ? await verifyPackDir(source.dir, this.trust) : await verifyPackTarball(source.tarball, this.trust);
      if (!checked.ok) throwRefusal(this.withTrustHint(refusalOf(checked)));
      return await this.place(checked, source, input, actor);
    } finally {
      await cleanup();
    }
  }

  private async place(
    checked: VerifiedPack,
    source: { dir: string } | { tarball: string },
    input: InstallInput,
    actor: Actor,
  ): Promise<InstallOutcome> {
    const { integrations } = this.options.store;
    if (checked.manifest.kind !== 'integration')
      throw new HubError(
        'SONDE_ERR_PACK_NOT_INTEGRATION',
        `${checked.packageName}@${checked.version} is a ${checked.manifest.kind} pack; the hub loads only integration packs (agents run system packs)`,
      );
    const existingPack = await integrations.getPack(checked.pack);
    if (existingPack && existingPack.packageName !== checked.packageName)
      throw new HubError(
        'SONDE_ERR_CONFLICT',
        `pack ${checked.pack} is already installed from ${existingPack.packageName}; remove it before installing ${checked.packageName}`,
      );
    const approved = existingPack?.approvedVersion ? await integrations.getVersion(checked.pack, existingPack.approvedVersion) : undefined;
    // The agent's rule too (@sonde/registry): no downgrade unless asked; the same or fewer permissions activate, more wait.
    const decision = decideUpgrade(
      approved && { version: approved.version, permissions: approved.manifest.permissions },
      { version: checked.version, permissions: checked.manifest.permissions },
      { allowDowngrade: input.allowDowngrade },
    );
    if (approved && decision.outcome === 'refused') {
      throw new HubError(
        'SONDE_ERR_DOWNGRADE',
        `SONDE_ERR_DOWNGRADE: ${checked.pack}@${checked.version} is older than the approved ${approved.version}; install it with allowDowngrade: true if that is intended`,
      );
    }
    const existing = await integrations.getVersion(checked.pack, checked.version);
    const { diff } = decision;
    if (existing && existing.integrity === checked.integrity && !(await this.verifyStored(existing))) {
      return { pack: await this.view(checked.pack), version: checked.version, outcome: 'unchanged', diff };
    }
    const installed = await installVerifiedPack(this.storeDir, source, this.trust);
    if (!installed.ok) throwRefusal(this.withTrustHint(refusalOf(installed)));
    const verified = installed.verified;
    const digest = permissionsDigest(verified.manifest.permissions);
    const now = new Date().toISOString();
    // Same or fewer permissions than the approved version: the operator already approved all of it.
    const activates = approved !== undefined && decision.outcome === 'active';
    await this.options.store.transaction(async (tx) => {
      await tx.integrations.ensurePack(verified.pack, verified.packageName);
      await tx.integrations.putVersion({
        name: verified.pack,
        version: verified.version,
        packageName: verified.packageName,
        integrity: verified.integrity,
        keyId: verified.keyId,
        publishedAt: verified.publishedAt,
        manifest: verified.manifest,
        permissionsDigest: digest,
        dir: installed.dir,
        installedAt: now,
        installedBy: actor.name,
        state: activates ? 'approved' : 'pending',
      });
      if (activates) {
        const applied = await tx.integrations.setApproved(verified.pack, approved.version, {
          version: verified.version,
          digest,
          at: now,
          by: `${actor.name ?? 'hub'} (update within approved permissions)`,
        });
        if (!applied) throw approvedMeanwhile(verified.pack);
        if (approved.version !== verified.version) await tx.integrations.setVersionState(approved.name, approved.version, 'superseded');
      }
      await this.audit(
        actor,
        {
          action: approved ? 'integration.update' : 'integration.install',
          status: 'ok',
          params: {
            pack: verified.pack,
            packageName: verified.packageName,
            version: verified.version,
            previous: approved?.version ?? null,
            integrity: verified.integrity,
            keyId: verified.keyId,
            permissionsDigest: digest,
            outcome: activates ? 'active' : 'pending',
            added: diff.added.map((c) => c.description),
            removed: diff.removed.map((c) => c.description),
          },
        },
        tx,
      );
    });
    this.refusals.delete(`${verified.pack}@${verified.version}`);
    if (activates) await this.load('reload', actor);
    return { pack: await this.view(verified.pack), version: verified.version, outcome: activates ? 'active' : 'pending', diff };
  }

  /**
   * Admin approval of a pending version (the newest one unless `version` says
   * which): records the permissions digest approved, and that version serves.
   * An older version than the approved one needs `allowDowngrade`.
   */
  async approve(
    name: string,
    actor: Actor,
    options: { version?: string; allowDowngrade?: boolean } = {},
  ): Promise<{ pack: PackView; diff: PermissionDiff }> {
    const { integrations } = this.options.store;
    const pack = await integrations.getPack(name);
    if (!pack) throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no integration pack ${name}`);
    const versions = await integrations.listVersions(name);
    const target = options.version
      ? versions.find((v) => v.version === options.version)
      : versions.filter((v) => v.state === 'pending').sort((a, b) => compareVersions(b.version, a.version))[0];
    if (!target)
      throw new HubError(
        'SONDE_ERR_CONFLICT',
        options.version ? `${name}@${options.version} is not installed` : `${name} has no pending version to approve`,
      );
    const approved = versions.find((v) => v.version === pack.approvedVersion);
    if (approved && isDowngrade(approved.version, target.version) && !options.allowDowngrade)
      throw new HubError(
        'SONDE_ERR_DOWNGRADE',
        `SONDE_ERR_DOWNGRADE: ${name}@${target.version} is older than the approved ${approved.version}; pass allowDowngrade: true if that is intended`,
      );
    // Verified again now: an approval never activates files that changed since install.
    await this.readTrust();
    const refusal = await this.verifyStored(target);
    if (refusal) {
      await this.audit(actor, {
        action: 'integration.approve',
        status: 'error',
        params: { pack: name, version: target.version, code: refusal.code },
        detail: `${refusal.code}: ${refusal.reason}`.slice(0, 1000),
      });
      throwRefusal(refusal);
    }
    const diff = diffPermissions(approved?.manifest.permissions, target.manifest.permissions);
    const now = new Date().toISOString();
    await this.options.store.transaction(async (tx) => {
      // Applied once: another admin (or another hub) approving at the same time finds the approval changed.
      const applied = await tx.integrations.setApproved(name, pack.approvedVersion, {
        version: target.version,
        digest: target.permissionsDigest,
        at: now,
        by: actor.name ?? 'hub',
      });
      if (!applied) throw approvedMeanwhile(name);
      if (approved && approved.version !== target.version) await tx.integrations.setVersionState(name, approved.version, 'superseded');
      await tx.integrations.setVersionState(name, target.version, 'approved');
      await this.audit(
        actor,
        {
          action: 'integration.approve',
          status: 'ok',
          params: {
            pack: name,
            version: target.version,
            previous: approved?.version ?? null,
            permissionsDigest: target.permissionsDigest,
            added: diff.added.map((c) => c.description),
            removed: diff.removed.map((c) => c.description),
          },
        },
        tx,
      );
    });
    await this.load('reload', actor);
    return { pack: await this.view(name), diff };
  }

  /** Removes a pack: every version's files, its instances and their processes. */
  async remove(name: string, actor: Actor): Promise<void> {
    const { integrations } = this.options.store;
    const pack = await integrations.getPack(name);
    if (!pack) throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no integration pack ${name}`);
    const versions = await integrations.listVersions(name);
    const instances = await integrations.listInstances(name);
    await this.runners.closePack(name);
    await this.options.store.transaction(async (tx) => {
      await tx.integrations.removePack(name);
      await this.audit(
        actor,
        {
          action: 'integration.remove',
          status: 'ok',
          params: { pack: name, versions: versions.map((v) => v.version), instances: instances.map((i) => i.name) },
        },
        tx,
      );
    });
    await this.refreshTargets();
    for (const version of versions) {
      const inside = path.relative(this.storeDir, version.dir);
      if (!inside.startsWith('..') && !path.isAbsolute(inside)) rmSync(version.dir, { recursive: true, force: true });
    }
    this.active.delete(name);
    this.refusals.delete(name);
  }

  // ---------------------------------------------------------------- instances

  private instanceView(record: IntegrationInstanceRecord): InstanceView {
    return {
      id: record.id,
      name: record.name,
      pack: record.pack,
      endpoint: record.endpoint,
      credentialNames: Object.keys(this.openCredentials(record)).sort(),
      status: record.status,
      lastError: record.lastError,
      lastCheckedAt: record.lastCheckedAt,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  private openCredentials(record: IntegrationInstanceRecord): Record<string, string> {
    return JSON.parse(this.options.sealer.openText(record.credentialsSealed, `integration-instance:${record.id}`)) as Record<
      string,
      string
    >;
  }

  private sealCredentials(id: string, credentials: Record<string, string>): string {
    return this.options.sealer.seal(JSON.stringify(credentials), `integration-instance:${id}`);
  }

  /** Only credentials the pack declares may be set. */
  private async checkCredentials(packName: string, credentials: Record<string, string>): Promise<void> {
    const manifest = await this.manifestFor(packName);
    const declared = new Set(manifest.permissions.credentials.map((c) => c.name));
    const unknown = Object.keys(credentials).filter((name) => !declared.has(name));
    if (unknown.length > 0)
      throw new HubError(
        'SONDE_ERR_VALIDATION',
        `credentials: pack ${packName} declares ${[...declared].join(', ') || 'no credentials'}; not ${unknown.join(', ')}`,
      );
  }

  private async manifestFor(packName: string): Promise<PackManifest> {
    const active = this.active.get(packName);
    if (active) return active.manifest;
    const { integrations } = this.options.store;
    const pack = await integrations.getPack(packName);
    if (!pack) throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no integration pack ${packName}; install it first`);
    const versions = (await integrations.listVersions(packName)).sort((a, b) => compareVersions(b.version, a.version));
    const shown = versions.find((v) => v.version === pack.approvedVersion) ?? versions[0];
    if (!shown) throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no installed version of ${packName}`);
    return shown.manifest;
  }

  /** Instance names and packs only, without opening any credentials (MCP lists and routes tools with these). */
  instanceTargets(): Array<{ name: string; pack: string }> {
    return this.targets;
  }

  instanceTarget(name: string): { name: string; pack: string } | undefined {
    return this.targets.find((target) => target.name === name);
  }

  async listInstances(pack?: string): Promise<InstanceView[]> {
    return (await this.options.store.integrations.listInstances(pack)).map((r) => this.instanceView(r));
  }

  async getInstance(idOrName: string): Promise<InstanceView> {
    return this.instanceView(await this.requireInstance(idOrName));
  }

  private async requireInstance(idOrName: string): Promise<IntegrationInstanceRecord> {
    const record = await this.options.store.integrations.getInstance(idOrName);
    if (!record) throw new HubError('SONDE_ERR_INSTANCE_NOT_FOUND', `no integration instance ${idOrName}`);
    return record;
  }

  async createInstance(input: InstanceInput, actor: Actor): Promise<InstanceView> {
    const { integrations } = this.options.store;
    const credentials = input.credentials ?? {};
    await this.checkCredentials(input.pack, credentials);
    if (await integrations.getInstance(input.name)) throw new HubError('SONDE_ERR_CONFLICT', `an instance named ${input.name} exists`);
    const id = randomUUID();
    const now = new Date().toISOString();
    const record: IntegrationInstanceRecord = {
      id,
      name: input.name,
      pack: input.pack,
      endpoint: input.endpoint,
      credentialsSealed: this.sealCredentials(id, credentials),
      status: 'untested',
      lastError: null,
      lastCheckedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.options.store.transaction(async (tx) => {
      await tx.integrations.createInstance(record);
      // Credential names only: values never reach the audit log.
      await this.audit(
        actor,
        {
          action: 'integration.instance.create',
          status: 'ok',
          params: { instance: input.name, pack: input.pack, endpoint: input.endpoint, credentials: Object.keys(credentials).sort() },
        },
        tx,
      );
    });
    await this.refreshTargets();
    return this.instanceView(record);
  }

  /** Changes name, endpoint or credentials (`credentials` replaces the set; omitted keeps it). The status becomes Untested. */
  async updateInstance(
    idOrName: string,
    patch: { name?: string; endpoint?: string; credentials?: Record<string, string> },
    actor: Actor,
  ): Promise<InstanceView> {
    const { integrations } = this.options.store;
    const record = await this.requireInstance(idOrName);
    if (patch.credentials) await this.checkCredentials(record.pack, patch.credentials);
    if (patch.name && patch.name !== record.name && (await integrations.getInstance(patch.name)))
      throw new HubError('SONDE_ERR_CONFLICT', `an instance named ${patch.name} exists`);
    const now = new Date().toISOString();
    await this.options.store.transaction(async (tx) => {
      await tx.integrations.updateInstance(record.id, {
        name: patch.name,
        endpoint: patch.endpoint,
        credentialsSealed: patch.credentials ? this.sealCredentials(record.id, patch.credentials) : undefined,
        status: 'untested',
        lastError: null,
        updatedAt: now,
      });
      await this.audit(
        actor,
        {
          action: 'integration.instance.update',
          status: 'ok',
          params: {
            instance: record.name,
            name: patch.name ?? null,
            endpoint: patch.endpoint ?? null,
            credentials: patch.credentials ? Object.keys(patch.credentials).sort() : null,
          },
        },
        tx,
      );
    });
    await this.refreshTargets();
    await this.runners.close(record.id);
    return this.getInstance(record.id);
  }

  async removeInstance(idOrName: string, actor: Actor): Promise<void> {
    const record = await this.requireInstance(idOrName);
    await this.runners.close(record.id);
    await this.options.store.transaction(async (tx) => {
      await tx.integrations.removeInstance(record.id);
      await this.audit(
        actor,
        { action: 'integration.instance.remove', status: 'ok', params: { instance: record.name, pack: record.pack } },
        tx,
      );
    });
    await this.refreshTargets();
  }

  /**
   * "Test Connection": runs the pack's connection probe (connection.ts says
   * which) on this instance and stores Connected or Error with the reason.
   */
  async testConnection(idOrName: string, actor: Actor): Promise<InstanceView & { probe: string | null; durationMs: number }> {
    const record = await this.requireInstance(idOrName);
    const started = performance.now();
    let status: 'connected' | 'error';
    let error: string | null = null;
    let probe: string | null = null;
    try {
      const active = this.active.get(record.pack);
      if (!active) throw new SondeError('SONDE_ERR_PROBE_FAILED', await this.unavailableReason(record.pack));
      probe = pickConnectionProbe(active.manifest);
      if (!probe) throw new SondeError('SONDE_ERR_PROBE_FAILED', `pack ${record.pack} has no probe that runs without parameters`);
      const outcome = await this.runRecord(record, probe, {});
      error = judgeConnection(outcome.result);
      status = error ? 'error' : 'connected';
    } catch (caught) {
      status = 'error';
      error =
        caught instanceof SondeError ? `${caught.code}: ${caught.message}` : caught instanceof Error ? caught.message : String(caught);
    }
    const durationMs = Math.round(performance.now() - started);
    const now = new Date().toISOString();
    await this.options.store.transaction(async (tx) => {
      await tx.integrations.updateInstance(record.id, { status, lastError: error, lastCheckedAt: now });
      await this.audit(
        actor,
        {
          action: 'integration.instance.test',
          status: status === 'connected' ? 'ok' : 'error',
          probe: probe ? `${record.pack}.${probe}` : null,
          agents: [record.name],
          durationMs,
          params: { instance: record.name },
          detail: error?.slice(0, 1000) ?? null,
        },
        tx,
      );
    });
    return { ...(await this.getInstance(record.id)), probe, durationMs };
  }

  private async unavailableReason(packName: string): Promise<string> {
    const refusal = this.refusals.get(packName);
    if (refusal) return `pack ${packName} is refused (${refusal.code}: ${refusal.reason})`;
    if (!(await this.options.store.integrations.getPack(packName))) return `pack ${packName} is not installed`;
    return `pack ${packName} has no approved version serving; an admin approves it with POST /api/v1/integrations/packs/${packName}/approve`;
  }

  // ---------------------------------------------------------------- runs

  /** Runs a probe of the instance's pack (local probe name) in the instance's sandbox; throws SondeError. */
  async run(instanceName: string, probe: string, params: Record<string, unknown>, timeoutMs?: number): Promise<ProbeRunOutcome> {
    const record = await this.options.store.integrations.getInstance(instanceName);
    if (!record) throw new SondeError('SONDE_ERR_PROBE_FAILED', `no integration instance ${instanceName}`);
    return this.runRecord(record, probe, params, timeoutMs);
  }

  private async runRecord(
    record: IntegrationInstanceRecord,
    probe: string,
    params: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<ProbeRunOutcome> {
    const active = this.active.get(record.pack);
    if (!active) throw new SondeError('SONDE_ERR_PROBE_FAILED', await this.unavailableReason(record.pack));
    const credentials = this.openCredentials(record);
    const runner = this.runners.get(record, active, credentials);
    const outcome = await runner.run(probe, params, timeoutMs);
    const scrubbed = this.scrubber.scrub(outcome.result);
    const secrets = Object.values(credentials).filter((v) => v.length >= 4);
    const redacted = redactValues(scrubbed.value, secrets);
    return {
      instance: record.name,
      probe,
      result: redacted.value,
      durationMs: outcome.durationMs,
      redactions: scrubbed.redactions + redacted.count,
    };
  }

  /** For operators: where trust and packs live, whether anything is trusted, the sandbox level and each instance's process. */
  async status(): Promise<{
    trustFile: string;
    trustProblem: Refusal | null;
    packsDir: string;
    isolation: string;
    processes: Array<{ instance: string; pack: string; status: string; reason: string | null; restarts: number; startupMs: number | null }>;
  }> {
    const names = new Map((await this.options.store.integrations.listInstances()).map((i) => [i.id, i.name]));
    return {
      trustFile: this.options.trustFile,
      trustProblem: this.trustProblem ?? null,
      packsDir: this.options.packsDir,
      isolation: this.runners.isolation,
      processes: Object.entries(this.runners.states()).map(([id, state]) => ({
        instance: names.get(id) ?? id,
        pack: state.pack,
        status: state.status,
        reason: state.reason ?? null,
        restarts: state.restarts,
        startupMs: state.startupMs === undefined ? null : Math.round(state.startupMs),
      })),
    };
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.loading;
    await this.runners.closeAll();
  }
}
