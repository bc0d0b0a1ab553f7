import path from 'node:path';
import type { PackManifest } from '../index.js';
import type { PackProcessBundle } from './bundle.js';
import { detectOsSandbox, isolationLabel } from './isolation.js';
import type { SandboxLimitsInput } from './limits.js';
import { createSandboxRunner, type SandboxRunner, type SandboxSecurityEvent, type SandboxState } from './runner.js';
import { vendorHostPackages } from './vendor.js';

/** What the pool needs of an installed, approved pack (a subset of the agent's InstalledPack). */
export interface ApprovedPack {
  name: string;
  version: string;
  dir: string;
  entry: string;
  manifest: PackManifest;
  permissionsSha256: string;
}

export interface ActivateOptions {
  /** When the operator last approved the pack: a new approval is the operator action that lifts a quarantine. */
  approvedAt?: string;
  /** Return the runner without waiting for its process: the caller awaits `runner.start()` when it suits it. */
  deferStart?: boolean;
}

export interface PackRunnerPoolOptions {
  packsDir: string;
  deniedPaths: readonly string[];
  limits?: SandboxLimitsInput;
  nodePath?: string;
  osSandbox?: 'auto' | 'none';
  onSecurityEvent: (event: SandboxSecurityEvent) => void;
  /**
   * The program's pack-process bundle (readPackProcessBundle): pack processes run its runner, and the packs prefix's
   * host packages re-export its modules. Without it they run pack-sdk's dist/sandbox/child.js with copies.
   */
  bundle?: PackProcessBundle;
}

interface Entry {
  key: string;
  runner: SandboxRunner;
}

/**
 * One sandbox runner per active pack, kept across reloads while the pack's
 * folder, version and approved permissions stay the same; a changed pack
 * gets a new process and the old one is closed.
 */
export class PackRunnerPool {
  readonly isolation: string;
  private readonly entries = new Map<string, Entry>();
  private prepared = false;

  constructor(private readonly options: PackRunnerPoolOptions) {
    this.isolation = isolationLabel(options.osSandbox === 'none' ? null : detectOsSandbox());
  }

  /**
   * The host packages in the packs prefix as real files (the pack processes cannot read the agent's own).
   * Runs before the first pack process starts, not at agent start: after an install or update it copies
   * zod and pack-sdk when there is no bundle (~0.4 s of CPU), which would otherwise delay the agent's registration.
   */
  prepare(): void {
    vendorHostPackages(path.join(this.options.packsDir, 'node_modules'), this.options.bundle);
    this.prepared = true;
  }

  /** Starts (or keeps) the pack's process; the error says why it cannot run. */
  async activate(pack: ApprovedPack, options: ActivateOptions = {}): Promise<SandboxRunner> {
    const key = [pack.dir, pack.version, pack.permissionsSha256, pack.entry, options.approvedAt ?? ''].join('\0');
    const existing = this.entries.get(pack.name);
    // Same pack, same approval: keep its process, quarantined or not (a quarantine waits for the operator).
    if (existing?.key === key && existing.runner.state.status !== 'failed') return existing.runner;
    if (existing) {
      this.entries.delete(pack.name);
      await existing.runner.close();
    }
    const runner = createSandboxRunner({
      packDir: pack.dir,
      entry: pack.entry,
      prefixDir: this.options.packsDir,
      permissions: pack.manifest.permissions,
      manifest: pack.manifest,
      deniedPaths: this.options.deniedPaths,
      limits: this.options.limits,
      nodePath: this.options.nodePath,
      osSandbox: this.options.osSandbox,
      onSecurityEvent: this.options.onSecurityEvent,
      childEntry: this.options.bundle?.runner,
      beforeSpawn: () => {
        if (!this.prepared) this.prepare();
      },
    });
    this.entries.set(pack.name, { key, runner });
    if (!options.deferStart) await runner.start();
    return runner;
  }

  get(name: string): SandboxRunner | undefined {
    return this.entries.get(name)?.runner;
  }

  states(): Record<string, SandboxState> {
    return Object.fromEntries([...this.entries].map(([name, entry]) => [name, entry.runner.state]));
  }

  /** Closes the processes of packs no longer active. */
  async retain(names: ReadonlySet<string>): Promise<void> {
    const gone = [...this.entries].filter(([name]) => !names.has(name));
    for (const [name] of gone) this.entries.delete(name);
    await Promise.all(gone.map(([, entry]) => entry.runner.close()));
  }

  async closeAll(): Promise<void> {
    await this.retain(new Set());
  }
}
