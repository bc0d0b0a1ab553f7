import type { PackManifest } from '@sonde/pack-sdk';

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
