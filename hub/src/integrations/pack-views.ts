import { compareVersions, diffPermissions } from '@sonde/registry';
import { HubError } from '../errors.js';
import type { HubStore } from '../store/types.js';
import type { ServingPacks } from './serving.js';
import type { PackState, PackView } from './types.js';

/**
 * What the API shows of an integration pack: its state, the version serving, the newest pending version with what
 * it adds or removes compared with the approved one, every version's refusal, and its instances.
 */
export async function packView(store: HubStore, serving: ServingPacks, name: string): Promise<PackView> {
  const { integrations } = store;
  const pack = (await integrations.getPack(name))!;
  const versions = await integrations.listVersions(name);
  const instances = await integrations.listInstances(name);
  const approved = versions.find((v) => v.version === pack.approvedVersion);
  const pending = versions.filter((v) => v.state === 'pending').sort((a, b) => compareVersions(b.version, a.version))[0];
  const active = serving.activePack(name);
  const refused = serving.refusal(name) ?? null;
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
      refused: serving.refusal(`${v.name}@${v.version}`) ?? null,
    })),
    instances: instances.map((i) => i.name),
  };
}

export async function listPackViews(store: HubStore, serving: ServingPacks): Promise<PackView[]> {
  const packs = await store.integrations.listPacks();
  return Promise.all(packs.map((pack) => packView(store, serving, pack.name)));
}

export async function getPackView(store: HubStore, serving: ServingPacks, name: string): Promise<PackView> {
  if (!(await store.integrations.getPack(name))) throw new HubError('SONDE_ERR_INTEGRATION_NOT_FOUND', `no integration pack ${name}`);
  return packView(store, serving, name);
}
