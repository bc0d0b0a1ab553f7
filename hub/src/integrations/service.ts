import path from 'node:path';
import type { PermissionDiff } from '@sonde/registry';
import type { AuditEntryInput } from '../services.js';
import type { HubStore } from '../store/types.js';
import { SYSTEM, type IntegrationDeps, type IntegrationServiceOptions } from './context.js';
import { InstanceTargets } from './instance-targets.js';
import { Instances } from './instances.js';
import { PackInstaller } from './pack-install.js';
import { getPackView, listPackViews } from './pack-views.js';
import { InstanceRunners } from './runners.js';
import { InstanceRuns } from './runs.js';
import { ServingPacks } from './serving.js';
import { IntegrationTrust } from './trust.js';
import type {
  ActivePack,
  Actor,
  InstallInput,
  InstallOutcome,
  InstanceInput,
  InstanceView,
  PackView,
  ProbeRunOutcome,
  Refusal,
} from './types.js';

export { actorOf, type HubRevocations, type IntegrationServiceOptions } from './context.js';
export type * from './types.js';

/**
 * Integration packs on the hub: install (verify, then write only the verified
 * files), approve, update and remove; instances with sealed credentials; and
 * probe runs in one sandboxed process per instance. Every pack is verified
 * again at every load (start, reload) against the trust store, and a pack
 * whose files, integrity or permissions no longer match what was approved is
 * refused until an operator acts.
 *
 * This class only puts the parts together, and is what the routes, the MCP
 * layer and the hub's start and close see:
 * - trust.ts: the trust store and the hub's revocation list;
 * - serving.ts: which approved versions verify and serve (every load);
 * - pack-views.ts and pack-install.ts: what the API shows, install / approve / remove;
 * - instances.ts: instances and their sealed credentials;
 * - runs.ts and runners.ts: probe runs and Test Connection, one sandboxed process per instance.
 */
export class IntegrationService {
  private readonly deps: IntegrationDeps;
  private readonly trust: IntegrationTrust;
  private readonly serving: ServingPacks;
  private readonly targets: InstanceTargets;
  private readonly installer: PackInstaller;
  private readonly instances: Instances;
  private readonly runs: InstanceRuns;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(private readonly options: IntegrationServiceOptions) {
    const audit = async (actor: Actor, entry: Omit<AuditEntryInput, 'actor'>, tx?: HubStore): Promise<void> => {
      await options.audit.append({ ...entry, actor }, tx);
    };
    const runners = new InstanceRunners({
      ...options.runner,
      packsDir: options.packsDir,
      deniedPaths: options.deniedPaths,
      onSecurityEvent: (event) =>
        void audit(SYSTEM, {
          action: 'integration.security',
          status: 'denied',
          probe: event.probe ? `${event.pack ?? '?'}.${event.probe}` : null,
          detail: `${event.kind}: ${event.detail}`.slice(0, 1000),
        }).catch((err: unknown) => options.log.error({ err }, 'could not audit an integration security event')),
    });
    this.deps = { options, storeDir: path.join(options.packsDir, 'store'), runners, audit };
    this.trust = new IntegrationTrust(options, audit);
    // A trust file imported through this hub replaced the shared trust store: the other hubs load again.
    this.trust.onImported = () => this.onChange?.();
    this.targets = new InstanceTargets(options.store);
    this.serving = new ServingPacks(this.deps, this.trust, this.targets);
    this.installer = new PackInstaller(this.deps, this.trust, this.serving, this.targets);
    this.instances = new Instances(this.deps, this.serving, this.targets);
    this.runs = new InstanceRuns(this.deps, this.serving, this.instances);
    this.unsubscribe = options.revocations?.onChange(() => {
      this.load('reload').catch((error: unknown) => options.log.error({ err: error }, 'integration reload after a revocation failed'));
    });
  }

  get packsDir(): string {
    return this.options.packsDir;
  }

  get isolation(): string {
    return this.deps.runners.isolation;
  }

  /**
   * Told after every change of packs or instances made through this hub (several hubs: the cluster tells the others,
   * which load again; the files come from the database, serving.ts `localDir`).
   */
  onChange: (() => void) | undefined;

  private async announced<T>(change: Promise<T>): Promise<T> {
    const result = await change;
    this.onChange?.();
    return result;
  }

  /** At hub start: a full load. The packs folder and the host packages are made on first use, so a hub without integrations writes nothing. */
  async start(): Promise<void> {
    await this.load('start');
  }

  /** Re-reads the trust store and verifies every installed version again (hub start and `POST …/reload`). */
  load(reason: 'start' | 'reload' = 'reload', actor: Actor = SYSTEM): Promise<void> {
    return this.serving.load(reason, actor);
  }

  // ---------------------------------------------------------------- packs

  list(): Promise<PackView[]> {
    return listPackViews(this.options.store, this.serving);
  }

  get(name: string): Promise<PackView> {
    return getPackView(this.options.store, this.serving, name);
  }

  activePacks(): ActivePack[] {
    return this.serving.activePacks();
  }

  activePack(name: string): ActivePack | undefined {
    return this.serving.activePack(name);
  }

  install(input: InstallInput, actor: Actor): Promise<InstallOutcome> {
    return this.announced(this.installer.install(input, actor));
  }

  approve(
    name: string,
    actor: Actor,
    options: { version?: string; allowDowngrade?: boolean } = {},
  ): Promise<{ pack: PackView; diff: PermissionDiff }> {
    return this.announced(this.installer.approve(name, actor, options));
  }

  remove(name: string, actor: Actor): Promise<void> {
    return this.announced(this.installer.remove(name, actor));
  }

  // ---------------------------------------------------------------- instances

  instanceTargets(): Array<{ name: string; pack: string }> {
    return this.targets.list();
  }

  instanceTarget(name: string): { name: string; pack: string } | undefined {
    return this.targets.find(name);
  }

  listInstances(pack?: string): Promise<InstanceView[]> {
    return this.instances.listInstances(pack);
  }

  getInstance(idOrName: string): Promise<InstanceView> {
    return this.instances.getInstance(idOrName);
  }

  createInstance(input: InstanceInput, actor: Actor): Promise<InstanceView> {
    return this.announced(this.instances.createInstance(input, actor));
  }

  updateInstance(
    idOrName: string,
    patch: { name?: string; endpoint?: string; credentials?: Record<string, string> },
    actor: Actor,
  ): Promise<InstanceView> {
    return this.announced(this.instances.updateInstance(idOrName, patch, actor));
  }

  removeInstance(idOrName: string, actor: Actor): Promise<void> {
    return this.announced(this.instances.removeInstance(idOrName, actor));
  }

  // ---------------------------------------------------------------- runs

  testConnection(idOrName: string, actor: Actor): Promise<InstanceView & { probe: string | null; durationMs: number }> {
    return this.runs.testConnection(idOrName, actor);
  }

  /** Runs a probe of the instance's pack (local probe name) in the instance's sandbox; throws SondeError. */
  run(instanceName: string, probe: string, params: Record<string, unknown>, timeoutMs?: number): Promise<ProbeRunOutcome> {
    return this.runs.run(instanceName, probe, params, timeoutMs);
  }

  /**
   * For operators: the trust file (the import path of the shared trust store), whether anything is trusted, the packs
   * folder, the sandbox level and each instance's process.
   */
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
      trustProblem: this.trust.problem ?? null,
      packsDir: this.options.packsDir,
      isolation: this.deps.runners.isolation,
      processes: Object.entries(this.deps.runners.states()).map(([id, state]) => ({
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
    await this.serving.settled();
    await this.deps.runners.closeAll();
  }
}
