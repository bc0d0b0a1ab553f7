import type { PackManifest } from '@sonde/pack-sdk';
import type { PermissionDiff } from '@sonde/registry';
import type { AuditEntryInput } from '../services.js';
import type { IntegrationInstanceRecord, IntegrationPackVersionRecord } from '../store/types.js';

/** Who acts on integrations (an admin's key or session, the hub itself), as the audit log names them. */
export interface Actor {
  kind: AuditEntryInput['actor']['kind'];
  id: string | null;
  name: string | null;
}

/** An approved version that verified at the last load: the one serving. */
export interface ActivePack {
  name: string;
  version: string;
  packageName: string;
  dir: string;
  manifest: PackManifest;
  digest: string;
  approvedAt: string;
}

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
