import path from 'node:path';
import {
  createSandboxRunner,
  detectOsSandbox,
  isolationGap,
  isolationLabel,
  vendorHostPackages,
  type SandboxLimitsInput,
  type SandboxRunner,
  type SandboxSecurityEvent,
  type SandboxState,
} from '@sonde/pack-sdk/sandbox';
import type { IntegrationInstanceRecord } from '../store/types.js';
import type { ActivePack } from './types.js';

export interface RunnerFactoryOptions {
  packsDir: string;
  deniedPaths: readonly string[];
  onSecurityEvent: (event: SandboxSecurityEvent) => void;
  limits?: SandboxLimitsInput;
  nodePath?: string;
  osSandbox?: 'auto' | 'none';
}

interface Entry {
  key: string;
  pack: string;
  runner: SandboxRunner;
}

/**
 * One sandboxed pack process per instance (PackRunnerPool keys by pack, and
 * an instance's endpoint and credentials are fixed per process). A process is
 * kept while the instance and the serving version are unchanged; anything
 * else (new approval, edited instance) replaces it.
 */
export class InstanceRunners {
  private isolationText: string | undefined;
  private readonly entries = new Map<string, Entry>();
  private prepared = false;

  constructor(private readonly options: RunnerFactoryOptions) {}

  /**
   * The OS layers integration pack processes get here. Detected on first use (a status read or the first pack
   * process), not while the hub starts: detection starts `bwrap`/`unshare` and waits for it (~30-50 ms).
   */
  get isolation(): string {
    if (this.isolationText === undefined) {
      const os = this.options.osSandbox === 'none' ? null : detectOsSandbox();
      // What the integration pack processes can still reach on this host is part of the string operators see.
      const gap = isolationGap(os);
      this.isolationText = `${isolationLabel(os)}${gap ? ` (${gap})` : ''}`;
    }
    return this.isolationText;
  }

  /** Real copies of @sonde/pack-sdk, zod and picomatch in `<packsDir>/node_modules`: pack processes cannot read the hub's own. */
  prepare(): void {
    vendorHostPackages(path.join(this.options.packsDir, 'node_modules'));
    this.prepared = true;
  }

  get(instance: IntegrationInstanceRecord, pack: ActivePack, credentials: Record<string, string>): SandboxRunner {
    const key = [pack.dir, pack.version, pack.digest, pack.approvedAt, instance.endpoint, instance.updatedAt].join('\0');
    const existing = this.entries.get(instance.id);
    if (existing?.key === key && existing.runner.state.status !== 'failed' && existing.runner.state.status !== 'closed')
      return existing.runner;
    if (existing) {
      this.entries.delete(instance.id);
      void existing.runner.close();
    }
    // Once per hub process (re-copied when the hub's pack-sdk changed), before the first pack process.
    if (!this.prepared) this.prepare();
    const runner = createSandboxRunner({
      packDir: pack.dir,
      prefixDir: this.options.packsDir,
      permissions: pack.manifest.permissions,
      manifest: pack.manifest,
      deniedPaths: this.options.deniedPaths,
      limits: this.options.limits,
      nodePath: this.options.nodePath,
      osSandbox: this.options.osSandbox,
      onSecurityEvent: (event) => this.options.onSecurityEvent({ ...event, pack: pack.name }),
      credentials,
      endpoint: instance.endpoint,
    });
    this.entries.set(instance.id, { key, pack: pack.name, runner });
    return runner;
  }

  async close(instanceId: string): Promise<void> {
    const entry = this.entries.get(instanceId);
    if (!entry) return;
    this.entries.delete(instanceId);
    await entry.runner.close();
  }

  async closePack(pack: string): Promise<void> {
    const gone = [...this.entries].filter(([, entry]) => entry.pack === pack);
    for (const [id] of gone) this.entries.delete(id);
    await Promise.all(gone.map(([, entry]) => entry.runner.close()));
  }

  states(): Record<string, SandboxState & { pack: string }> {
    return Object.fromEntries([...this.entries].map(([id, entry]) => [id, { ...entry.runner.state, pack: entry.pack }]));
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((entry) => entry.runner.close()));
  }
}
