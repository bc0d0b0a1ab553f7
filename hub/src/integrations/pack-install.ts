import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { permissionsDigest } from '@sonde/pack-sdk';
import {
  compareVersions,
  decideUpgrade,
  diffPermissions,
  fetchPackTarball,
  installVerifiedPack,
  isDowngrade,
  isRegistryError,
  verifyPackDir,
  verifyPackTarball,
  type PermissionDiff,
  type VerifiedPack,
} from '@sonde/registry';
import { HubError } from '../errors.js';
import { isIntegrationErrorCode } from './codes.js';
import type { IntegrationDeps } from './context.js';
import type { InstanceTargets } from './instance-targets.js';
import { packView } from './pack-views.js';
import { archiveDir } from './archive.js';
import { refusalOf, throwRefusal } from './refusal.js';
import type { ServingPacks } from './serving.js';
import type { IntegrationTrust } from './trust.js';
import type { Actor, InstallInput, InstallOutcome, PackView } from './types.js';

/** A concurrent approval (another admin, another hub) changed what this one was based on. */
const approvedMeanwhile = (pack: string): HubError =>
  new HubError('SONDE_ERR_CONFLICT', `the approval of ${pack} changed meanwhile; read the pack again and retry`);

/**
 * Installing, approving and removing integration packs: a pack is verified in memory before anything is written,
 * and the upgrade rule the agent applies too (@sonde/registry decideUpgrade) decides whether a new version serves.
 */
export class PackInstaller {
  constructor(
    private readonly deps: IntegrationDeps,
    private readonly trust: IntegrationTrust,
    private readonly serving: ServingPacks,
    private readonly targets: InstanceTargets,
  ) {}

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
      await this.deps.audit(actor, {
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
    await this.trust.read();
    mkdirSync(this.deps.storeDir, { recursive: true, mode: 0o755 });
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
      const fetched = await fetchPackTarball(input.spec, { cwd: this.deps.options.packsDir, timeoutMs: 120_000 });
      source = { tarball: fetched.tarball };
      cleanup = fetched.cleanup;
    } else {
      throw new HubError('SONDE_ERR_VALIDATION', 'give `spec` (an npm package spec) or `path` (a folder or .tgz on the hub)');
    }
    try {
      // Verified first (in memory) to refuse a downgrade before anything is written.
      const checked =
        'dir' in source ? await verifyPackDir(source.dir, this.trust.current) : await verifyPackTarball(source.tarball, this.trust.current);
      if (!checked.ok) throwRefusal(this.trust.withHint(refusalOf(checked)));
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
    const { integrations } = this.deps.options.store;
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
    if (existing && existing.integrity === checked.integrity && !(await this.serving.verifyStored(existing))) {
      // Its copy here verifies (again: a removed copy is written back from the database): if it is the approved version
      // and was refused at the last load, it serves again.
      if (approved?.version === checked.version && this.serving.activePack(checked.pack)?.version !== checked.version)
        await this.serving.load('reload', actor);
      return {
        pack: await packView(this.deps.options.store, this.serving, checked.pack),
        version: checked.version,
        outcome: 'unchanged',
        diff,
      };
    }
    const installed = await installVerifiedPack(this.deps.storeDir, source, this.trust.current);
    if (!installed.ok) throwRefusal(this.trust.withHint(refusalOf(installed)));
    const verified = installed.verified;
    const digest = permissionsDigest(verified.manifest.permissions);
    const now = new Date().toISOString();
    // Same or fewer permissions than the approved version: the operator already approved all of it.
    const activates = approved !== undefined && decision.outcome === 'active';
    // The verified files go into the database too, so every hub can load this version (serving.ts `localDir`).
    const archive = await archiveDir(installed.dir);
    await this.deps.options.store.transaction(async (tx) => {
      await tx.integrations.ensurePack(verified.pack, verified.packageName);
      await tx.integrations.putArchive(verified.pack, verified.version, archive);
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
      await this.deps.audit(
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
    this.serving.forgetRefusal(`${verified.pack}@${verified.version}`);
    if (activates) await this.serving.load('reload', actor);
    return {
      pack: await packView(this.deps.options.store, this.serving, verified.pack),
      version: verified.version,
      outcome: activates ? 'active' : 'pending',
      diff,
    };
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
    const { integrations } = this.deps.options.store;
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
    await this.trust.read();
    const refusal = await this.serving.verifyStored(target);
    if (refusal) {
      await this.deps.audit(actor, {
        action: 'integration.approve',
        status: 'error',
        params: { pack: name, version: target.version, code: refusal.code },
        detail: `${refusal.code}: ${refusal.reason}`.slice(0, 1000),
      });
      throwRefusal(refusal);
    }
    const diff = diffPermissions(approved?.manifest.permissions, target.manifest.permissions);
    const now = new Date().toISOString();
    await this.deps.options.store.transaction(async (tx) => {
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
      await this.deps.audit(
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
    await this.serving.load('reload', actor);
    return { pack: await packView(this.deps.options.store, this.serving, name), diff };
  }

  /** Removes a pack: every version's files, its instances and their processes. */
  async remove(name: string, actor: Actor): Promise<void> {
    const { integrations } = this.deps.options.store;
    const pack = await integrations.getPack(name);
    if (!pack) throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no integration pack ${name}`);
    const versions = await integrations.listVersions(name);
    const instances = await integrations.listInstances(name);
    await this.deps.runners.closePack(name);
    await this.deps.options.store.transaction(async (tx) => {
      await tx.integrations.removePack(name);
      await this.deps.audit(
        actor,
        {
          action: 'integration.remove',
          status: 'ok',
          params: { pack: name, versions: versions.map((v) => v.version), instances: instances.map((i) => i.name) },
        },
        tx,
      );
    });
    await this.targets.refresh();
    for (const version of versions) {
      const inside = path.relative(this.deps.storeDir, version.dir);
      if (!inside.startsWith('..') && !path.isAbsolute(inside)) rmSync(version.dir, { recursive: true, force: true });
    }
    this.serving.forget(name);
  }
}
