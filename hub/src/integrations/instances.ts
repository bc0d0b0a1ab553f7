import { randomUUID } from 'node:crypto';
import type { PackManifest } from '@sonde/pack-sdk';
import { compareVersions } from '@sonde/registry';
import { HubError } from '../errors.js';
import type { IntegrationInstanceRecord } from '../store/types.js';
import type { IntegrationDeps } from './context.js';
import type { InstanceTargets } from './instance-targets.js';
import type { ServingPacks } from './serving.js';
import type { Actor, InstanceInput, InstanceView } from './types.js';

/**
 * Integration instances: a pack, an endpoint and credentials sealed at rest (AES-256-GCM, bound to the instance id),
 * whose values are never returned or audited; only credentials the pack declares may be set.
 */
export class Instances {
  constructor(
    private readonly deps: IntegrationDeps,
    private readonly serving: ServingPacks,
    private readonly targets: InstanceTargets,
  ) {}

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

  openCredentials(record: IntegrationInstanceRecord): Record<string, string> {
    return JSON.parse(this.deps.options.sealer.openText(record.credentialsSealed, `integration-instance:${record.id}`)) as Record<
      string,
      string
    >;
  }

  private sealCredentials(id: string, credentials: Record<string, string>): string {
    return this.deps.options.sealer.seal(JSON.stringify(credentials), `integration-instance:${id}`);
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
    const active = this.serving.activePack(packName);
    if (active) return active.manifest;
    const { integrations } = this.deps.options.store;
    const pack = await integrations.getPack(packName);
    if (!pack) throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no integration pack ${packName}; install it first`);
    const versions = (await integrations.listVersions(packName)).sort((a, b) => compareVersions(b.version, a.version));
    const shown = versions.find((v) => v.version === pack.approvedVersion) ?? versions[0];
    if (!shown) throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no installed version of ${packName}`);
    return shown.manifest;
  }

  async listInstances(pack?: string): Promise<InstanceView[]> {
    return (await this.deps.options.store.integrations.listInstances(pack)).map((r) => this.instanceView(r));
  }

  async getInstance(idOrName: string): Promise<InstanceView> {
    return this.instanceView(await this.requireInstance(idOrName));
  }

  async requireInstance(idOrName: string): Promise<IntegrationInstanceRecord> {
    const record = await this.deps.options.store.integrations.getInstance(idOrName);
    if (!record) throw new HubError('SONDE_ERR_INSTANCE_NOT_FOUND', `no integration instance ${idOrName}`);
    return record;
  }

  async createInstance(input: InstanceInput, actor: Actor): Promise<InstanceView> {
    const { integrations } = this.deps.options.store;
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
    await this.deps.options.store.transaction(async (tx) => {
      await tx.integrations.createInstance(record);
      // Credential names only: values never reach the audit log.
      await this.deps.audit(
        actor,
        {
          action: 'integration.instance.create',
          status: 'ok',
          params: { instance: input.name, pack: input.pack, endpoint: input.endpoint, credentials: Object.keys(credentials).sort() },
        },
        tx,
      );
    });
    await this.targets.refresh();
    return this.instanceView(record);
  }

  /** Changes name, endpoint or credentials (`credentials` replaces the set; omitted keeps it). The status becomes Untested. */
  async updateInstance(
    idOrName: string,
    patch: { name?: string; endpoint?: string; credentials?: Record<string, string> },
    actor: Actor,
  ): Promise<InstanceView> {
    const { integrations } = this.deps.options.store;
    const record = await this.requireInstance(idOrName);
    if (patch.credentials) await this.checkCredentials(record.pack, patch.credentials);
    if (patch.name && patch.name !== record.name && (await integrations.getInstance(patch.name)))
      throw new HubError('SONDE_ERR_CONFLICT', `an instance named ${patch.name} exists`);
    const now = new Date().toISOString();
    await this.deps.options.store.transaction(async (tx) => {
      await tx.integrations.updateInstance(record.id, {
        name: patch.name,
        endpoint: patch.endpoint,
        credentialsSealed: patch.credentials ? this.sealCredentials(record.id, patch.credentials) : undefined,
        status: 'untested',
        lastError: null,
        updatedAt: now,
      });
      await this.deps.audit(
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
    await this.targets.refresh();
    await this.deps.runners.close(record.id);
    return this.getInstance(record.id);
  }

  async removeInstance(idOrName: string, actor: Actor): Promise<void> {
    const record = await this.requireInstance(idOrName);
    await this.deps.runners.close(record.id);
    await this.deps.options.store.transaction(async (tx) => {
      await tx.integrations.removeInstance(record.id);
      await this.deps.audit(
        actor,
        { action: 'integration.instance.remove', status: 'ok', params: { instance: record.name, pack: record.pack } },
        tx,
      );
    });
    await this.targets.refresh();
  }
}
