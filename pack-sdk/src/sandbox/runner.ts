import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { SondeError, createHostContext, isSondeError, type PackManifest, type Permissions, type ProbeContext } from '../index.js';
import { permissionsDigest } from '../manifest/permissions-digest.js';
import { FrameDecoder, FrameTooLargeError, encodeFrame } from './framing.js';
import { detectOsSandbox, isolationLabel, launchCommand, nodeFacts, type OsSandbox } from './isolation.js';
import { SandboxLimitsSchema, type LimitReason, type SandboxLimits, type SandboxLimitsInput } from './limits.js';
import {
  ChildMessageSchema,
  EffectArgsSchemas,
  ReadyManifestSchema,
  type ChildMessage,
  type ParentMessage,
  type ReadyManifest,
} from './messages.js';
import { ProcessCpu, findChildPid, residentBytes } from './proc-stat.js';
import { sdkPackageRoot } from './sdk-root.js';
import { guardSigusr1 } from './signals.js';
import { checkGrantedTrees, dependencyTree, packageEntry } from './tree.js';

/** What the agent forwards to the hub as `agent.security` (same shape as SecurityEventSchema). */
export interface SandboxSecurityEvent {
  kind: 'effect-refused' | 'sandbox-denied' | 'sandbox-limit' | 'sandbox-quarantined' | 'sandbox-refused' | 'sandbox-protocol';
  pack?: string;
  probe?: string;
  detail: string;
}

export type SandboxStatus = 'idle' | 'starting' | 'ready' | 'quarantined' | 'failed' | 'closed';

export interface SandboxState {
  status: SandboxStatus;
  /** Why the pack is failed or quarantined. */
  reason?: string;
  /** Limit trips inside the current window. */
  trips: number;
  lastTrip?: LimitReason;
  restarts: number;
  /** Host PID of the pack's node process (inside its own PID namespace it is 1). */
  pid?: number;
  /** Spawn to loaded, last start. */
  startupMs?: number;
  /** Times the process was stopped for being idle (limits.idleStopMs). */
  idleStops: number;
}

export interface SandboxRunnerOptions {
  /** Installed pack folder, e.g. `<packsDir>/node_modules/<package>`. */
  packDir: string;
  /** Its entry file; defaults to the package's export. */
  entry?: string;
  /** Highest folder searched for the pack's dependencies (the packs prefix); defaults to the parent of the `node_modules` holding the pack. */
  prefixDir?: string;
  /** The operator-approved permissions; the broker checks every effect against these, never against what the pack says. */
  permissions: Permissions;
  /** The approved manifest (sonde-pack.json), for per-probe time and output limits. */
  manifest?: PackManifest;
  /** Host paths no pack may read whatever it declares (agent key, config). */
  deniedPaths?: readonly string[];
  limits?: SandboxLimitsInput;
  onSecurityEvent?: (event: SandboxSecurityEvent) => void;
  /** Node binary for the pack process; defaults to the agent's own. */
  nodePath?: string;
  /** `auto` adds user, PID and network namespaces where the kernel allows; `none` uses the permission model alone. */
  osSandbox?: 'auto' | 'none';
  credentials?: Record<string, string>;
  endpoint?: string;
  /**
   * Built runner entry; defaults to dist/sandbox/child.js beside this module. Its folder is granted: a pack-process
   * bundle's runner (PackProcessBundle.runner) brings its chunks with it.
   */
  childEntry?: string;
  /** Runs before every process start (the pool vendors the host packages there, off the agent's start → online path). */
  beforeSpawn?: () => void;
}

export interface SandboxRunOutcome {
  result: unknown;
  durationMs: number;
}

export interface SandboxRunner {
  readonly isolation: string;
  readonly state: SandboxState;
  /** The manifest the pack's code builds, without the probes' JSON Schemas (validated; permissions equal to the approved ones). */
  readonly manifest: ReadyManifest | undefined;
  /** Starts the pack process now instead of on the first run. */
  start(): Promise<void>;
  /** Runs one probe; throws SondeError (`details.limit` names a tripped limit). */
  run(probe: string, params: unknown, timeoutMs?: number): Promise<SandboxRunOutcome>;
  /** Operator action: lift a quarantine or a failed state and start again on the next run. */
  release(): void;
  close(): Promise<void>;
}

/** pack-sdk's built child entry; from sources (tests) too: Node cannot load .ts inside the sandbox. */
function defaultChildEntry(): string {
  return path.join(sdkPackageRoot(), 'dist/sandbox/child.js');
}

interface RunRecord {
  id: number;
  probe: string;
  started: number;
  cpuStart: number | undefined;
  /**
   * The host context that carries out the run's brokered effects, and the controller that ends them when the run
   * ends. Made on the first effect: most probe calls ask for none (a no-op, a probe that reads what the pack process
   * computes), and making them (realpath of every denied path, an AbortController) was 3 % of the agent's CPU per call.
   */
  effects?: { controller: AbortController; context: ProbeContext };
  /** Brokered effects in flight: a pack may not flood the agent with commands. */
  effectsInFlight: number;
  /** The probe's time limit, for the host context's own command and request timeouts. */
  limit: number;
  maxOutputBytes: number | undefined;
  timer: NodeJS.Timeout;
  /**
   * Whether running out of time is the pack's fault: only when the limit is the probe's own declared timeout. A caller
   * that asks for less (an MCP client's short deadline, a hub's remaining budget) ends the run at its limit, but that
   * must not count toward quarantine, or any caller could take a pack down with a few short deadlines.
   */
  timeoutIsPacks: boolean;
  resolve: (outcome: SandboxRunOutcome) => void;
  reject: (error: Error) => void;
}

interface KillReason {
  reason: LimitReason;
  /** The probe that tripped the limit; the others in flight only lose their process. */
  runId?: number;
  detail: string;
  /** Counts toward quarantine (a limit), or not (close, quarantine, failed load). */
  trip: boolean;
}

interface Generation {
  process: ChildProcess;
  channel: Socket;
  /** The node process (differs from process.pid under unshare). */
  pid: number | undefined;
  /** Its CPU time from /proc, through a descriptor kept open (opened on first use, closed at exit). */
  cpu?: ProcessCpu;
  stderrTail: string;
  killReason?: KillReason;
  exited: Promise<void>;
}

const DENIED_CODES = new Set(['SONDE_ERR_PERMISSION_DENIED', 'SONDE_ERR_CAPABILITY_REFUSED']);
/** Why a run's effects are stopped when it ends: one value for every run (an Error per run cost its stack trace each time). */
const PROBE_FINISHED = new SondeError('SONDE_ERR_PROBE_FAILED', 'probe finished');
const MONITOR_INTERVAL_MS = 50;
const MAX_EFFECTS_IN_FLIGHT = 8;

class Runner implements SandboxRunner {
  readonly isolation: string;
  manifest: ReadyManifest | undefined;
  private readonly limits: SandboxLimits;
  private readonly os: OsSandbox | null;
  private readonly childEntry: string;
  private readonly entry: string;
  private packSdkEntry: string;
  private grants: string[];
  private readonly approvedDigest: string;
  private status: SandboxStatus = 'idle';
  private idleTimer: NodeJS.Timeout | undefined;
  private idleStops = 0;
  private reason: string | undefined;
  private tripTimes: number[] = [];
  private lastTrip: LimitReason | undefined;
  private restarts = 0;
  private startupMs: number | undefined;
  private generation: Generation | undefined;
  private starting: Promise<void> | undefined;
  private readonly runs = new Map<number, RunRecord>();
  private nextRunId = 0;
  private monitor: NodeJS.Timeout | undefined;
  private readonly packLabel: string;

  constructor(private readonly options: SandboxRunnerOptions) {
    guardSigusr1();
    this.limits = SandboxLimitsSchema.parse(options.limits ?? {});
    this.os = options.osSandbox === 'none' ? null : detectOsSandbox();
    this.isolation = isolationLabel(this.os);
    this.childEntry = options.childEntry ?? defaultChildEntry();
    const packDir = path.resolve(options.packDir);
    this.entry = options.entry ?? packageEntry(packDir);
    this.packLabel = options.manifest?.name ?? path.basename(packDir);
    ({ packSdkEntry: this.packSdkEntry, grants: this.grants } = this.resolveTree());
    this.approvedDigest = permissionsDigest(options.permissions);
  }

  get state(): SandboxState {
    this.pruneTrips();
    return {
      status: this.status,
      reason: this.reason,
      trips: this.tripTimes.length,
      lastTrip: this.lastTrip,
      restarts: this.restarts,
      pid: this.generation?.pid,
      startupMs: this.startupMs,
      idleStops: this.idleStops,
    };
  }

  start(): Promise<void> {
    clearTimeout(this.idleTimer);
    if (this.status === 'ready') return Promise.resolve();
    if (this.starting) return this.starting;
    if (this.status === 'quarantined' || this.status === 'failed' || this.status === 'closed') return Promise.reject(this.unavailable());
    this.starting = this.spawnChild().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async run(probe: string, params: unknown, timeoutMs?: number): Promise<SandboxRunOutcome> {
    await this.start();
    const generation = this.generation;
    if (!generation || this.status !== 'ready') throw this.unavailable();
    // The approved manifest decides what may run: the pack process's own checks are its word only.
    const declared = (this.options.manifest ?? this.manifest)?.probes.find((entry) => entry.name === probe);
    if (!declared) throw new SondeError('SONDE_ERR_UNKNOWN_PROBE', `pack ${this.packLabel} has no probe ${probe}`);
    if (declared.capability !== 'observe')
      throw new SondeError(
        'SONDE_ERR_CAPABILITY_REFUSED',
        `probe ${probe} declares capability ${declared.capability}; only observe may run`,
      );
    const limit = Math.min(timeoutMs ?? declared.timeoutMs, declared.timeoutMs);
    const timeoutIsPacks = limit >= declared.timeoutMs;
    const id = this.nextRunId++;
    return new Promise<SandboxRunOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill(generation, {
          reason: 'wall-time',
          runId: id,
          detail: `${probe} did not answer within ${limit} ms`,
          trip: timeoutIsPacks,
        });
      }, limit + this.limits.graceMs);
      this.runs.set(id, {
        id,
        probe,
        started: performance.now(),
        cpuStart: this.cpuOf(generation),
        effectsInFlight: 0,
        limit,
        maxOutputBytes: declared.maxOutputBytes,
        timer,
        timeoutIsPacks,
        resolve,
        reject,
      });
      this.startMonitor();
      const message: ParentMessage = {
        t: 'run',
        id,
        probe,
        params,
        timeoutMs: limit,
        credentials: this.options.credentials ?? {},
        endpoint: this.options.endpoint,
      };
      generation.channel.write(encodeFrame(message));
    });
  }

  release(): void {
    if (this.status === 'closed') return;
    this.tripTimes = [];
    this.reason = undefined;
    if (this.status === 'quarantined' || this.status === 'failed') this.status = 'idle';
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.status = 'closed';
    const generation = this.generation;
    if (generation) {
      this.kill(generation, { reason: 'crash', detail: 'the runner was closed', trip: false });
      await generation.exited;
    }
    this.stopMonitor();
  }

  private unavailable(): SondeError {
    if (this.status === 'quarantined')
      return new SondeError(
        'SONDE_ERR_PROBE_FAILED',
        `pack ${this.packLabel} is quarantined (${this.reason ?? 'limits'}); an operator must release it`,
        { quarantined: true },
      );
    if (this.status === 'closed') return new SondeError('SONDE_ERR_PROBE_FAILED', `pack ${this.packLabel}: its runner is closed`);
    return new SondeError('SONDE_ERR_PROBE_FAILED', `pack ${this.packLabel} cannot run: ${this.reason ?? 'its process is not ready'}`);
  }

  private emit(event: Omit<SandboxSecurityEvent, 'pack'>): void {
    this.options.onSecurityEvent?.({ pack: this.packLabel, ...event, detail: event.detail.slice(0, 2000) });
  }

  /** The read grant: the pack, the packages it resolves in the packs prefix, the runner entry. */
  private resolveTree(): { packSdkEntry: string; grants: string[] } {
    const packDir = path.resolve(this.options.packDir);
    const deps = dependencyTree(packDir, this.options.prefixDir ?? defaultPrefix(packDir));
    if (!deps.packSdkDir)
      throw new SondeError(
        'SONDE_ERR_INVALID_MANIFEST',
        `${packDir}: @sonde/pack-sdk is not installed beside the pack (vendorHostPackages)`,
      );
    return { packSdkEntry: packageEntry(deps.packSdkDir), grants: [packDir, ...deps.dirs, path.dirname(this.childEntry)] };
  }

  private nodeArgs(): string[] {
    const facts = nodeFacts(this.options.nodePath ?? process.execPath);
    for (const grant of this.grants) {
      // Node 20 splits one --allow-fs-read value at commas.
      if (grant.includes(','))
        throw new SondeError('SONDE_ERR_INVALID_MANIFEST', `${grant}: a path with a comma cannot be granted to a pack process`);
    }
    return [
      facts.permissionFlag,
      ...this.grants.map((grant) => `--allow-fs-read=${grant}`),
      `--max-old-space-size=${this.limits.maxHeapMb}`,
      // Probes allocate little at a time; a 1 MiB young generation keeps each idle pack process ~5 MiB smaller.
      '--max-semi-space-size=1',
      '--no-warnings',
      ...(facts.disableSigusr1 ? ['--disable-sigusr1'] : []),
      this.childEntry,
      this.entry,
      this.packSdkEntry,
      String(this.limits.maxOutputBytes + 64 * 1024),
    ];
  }

  private async spawnChild(): Promise<void> {
    if (this.options.beforeSpawn) {
      this.options.beforeSpawn();
      // What it vendored may add packages to the grant (picomatch is not linked before the first copy).
      ({ packSdkEntry: this.packSdkEntry, grants: this.grants } = this.resolveTree());
    }
    if (!existsSync(this.childEntry))
      throw new SondeError('SONDE_ERR_PROBE_FAILED', `${this.childEntry} is missing: build pack-sdk (npx tsc -b pack-sdk)`);
    const violations = checkGrantedTrees(this.grants);
    if (violations.length > 0) {
      const detail = violations
        .slice(0, 5)
        .map((v) => `${v.path}: ${v.reason}`)
        .join('; ');
      this.status = 'failed';
      this.reason = `unsafe pack tree: ${detail}`;
      this.emit({ kind: 'sandbox-refused', detail: `refused to start: ${detail}` });
      throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `pack ${this.packLabel}: refused to start, ${detail}`, { violations });
    }
    const nodePath = this.options.nodePath ?? process.execPath;
    const { command, args } = launchCommand(this.os, nodePath, this.nodeArgs(), {
      readOnly: this.grants,
      cwd: path.resolve(this.options.packDir),
    });
    this.status = 'starting';
    const spawned = performance.now();
    // Empty environment (no NODE_OPTIONS, nothing of the agent's), no descriptors beyond the channel,
    // its own process group so a kill reaches everything it is made of.
    const child = spawn(command, args, {
      env: {},
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
      cwd: path.resolve(this.options.packDir),
    });
    const channel = child.stdio[3] as Socket;
    let exitResolve!: () => void;
    const generation: Generation = {
      process: child,
      channel,
      pid: this.os ? undefined : child.pid, // setpriv execs node (same pid); unshare forks it
      stderrTail: '',
      exited: new Promise<void>((resolve) => (exitResolve = resolve)),
    };
    this.generation = generation;
    child.stdout?.resume();
    child.stderr?.on('data', (chunk: Buffer) => {
      generation.stderrTail = (generation.stderrTail + chunk.toString('utf8')).slice(-4096);
    });
    const decoder = new FrameDecoder(this.limits.maxOutputBytes + 64 * 1024);
    let onReady!: (error?: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      onReady = (error) => (error ? reject(error) : resolve());
    });
    channel.on('data', (chunk: Buffer) => {
      let messages: unknown[];
      try {
        messages = decoder.push(chunk);
      } catch (error) {
        const tooLarge = error instanceof FrameTooLargeError;
        this.kill(generation, {
          reason: tooLarge ? 'output' : 'protocol',
          runId: this.runs.size === 1 ? [...this.runs.keys()][0] : undefined,
          detail: tooLarge ? `the pack sent ${error.size} bytes; the limit is ${error.limit}` : 'the pack sent a malformed frame',
          trip: true,
        });
        return;
      }
      for (const raw of messages) this.onMessage(generation, raw, onReady);
    });
    channel.on('error', () => undefined);
    child.on('error', (error) => onReady(new SondeError('SONDE_ERR_PROBE_FAILED', `pack ${this.packLabel}: ${error.message}`)));
    child.on('exit', (code, signal) => {
      exitResolve();
      onReady(
        new SondeError(
          'SONDE_ERR_PROBE_FAILED',
          `pack ${this.packLabel} exited while loading: ${this.exitSummary(generation, code, signal)}`,
        ),
      );
      this.onExit(generation, code, signal);
    });
    const startTimer = setTimeout(() => {
      this.kill(generation, { reason: 'crash', detail: `not loaded within ${this.limits.startTimeoutMs} ms`, trip: false });
    }, this.limits.startTimeoutMs);
    try {
      await ready;
    } catch (error) {
      if (this.status === 'starting') {
        this.status = 'failed';
        this.reason = (error as Error).message;
      }
      this.kill(generation, { reason: 'crash', detail: 'failed to load', trip: false });
      throw error;
    } finally {
      clearTimeout(startTimer);
    }
    if (this.os && child.pid !== undefined) generation.pid = findChildPid(child.pid);
    this.startupMs = performance.now() - spawned;
    this.status = 'ready';
    this.armIdleStop();
  }

  private exitSummary(generation: Generation, code: number | null, signal: NodeJS.Signals | null): string {
    const tail = generation.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return `${signal ? `signal ${signal}` : `exit code ${code}`}${tail ? `: ${tail.slice(0, 500)}` : ''}`;
  }

  private onMessage(generation: Generation, raw: unknown, onReady: (error?: Error) => void): void {
    const parsed = ChildMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.emit({ kind: 'sandbox-protocol', detail: 'the pack process sent a malformed message' });
      this.kill(generation, { reason: 'protocol', detail: 'malformed message', trip: true });
      return;
    }
    const message: ChildMessage = parsed.data;
    switch (message.t) {
      case 'ready': {
        const manifest = ReadyManifestSchema.safeParse(message.manifest);
        if (!manifest.success)
          return onReady(new SondeError('SONDE_ERR_INVALID_MANIFEST', `pack ${this.packLabel} builds an invalid manifest`));
        if (permissionsDigest(manifest.data.permissions) !== this.approvedDigest) {
          this.emit({ kind: 'sandbox-refused', detail: 'the code declares other permissions than the approved manifest' });
          return onReady(
            new SondeError(
              'SONDE_ERR_PERMISSION_DENIED',
              `pack ${this.packLabel}: the code declares other permissions than were approved`,
              { permissionsMismatch: true },
            ),
          );
        }
        if (this.options.manifest && manifest.data.name !== this.options.manifest.name)
          return onReady(
            new SondeError('SONDE_ERR_INVALID_MANIFEST', `pack ${this.packLabel}: its code calls itself ${manifest.data.name}`),
          );
        this.manifest = manifest.data;
        return onReady();
      }
      case 'load-failed':
        return onReady(new SondeError('SONDE_ERR_PROBE_FAILED', `pack ${this.packLabel} failed to load: ${message.error.message}`));
      case 'effect':
        void this.broker(generation, message);
        return;
      case 'result':
        return this.onResult(message);
    }
  }

  private async broker(generation: Generation, message: Extract<ChildMessage, { t: 'effect' }>): Promise<void> {
    const reply = (payload: ParentMessage): void => {
      if (this.generation === generation && !generation.channel.destroyed) generation.channel.write(encodeFrame(payload));
    };
    const run = this.runs.get(message.run);
    if (!run) {
      this.emit({ kind: 'sandbox-protocol', detail: `effect ${message.op} outside a running probe` });
      return reply({
        t: 'effect-result',
        id: message.id,
        ok: false,
        error: { code: 'SONDE_ERR_PERMISSION_DENIED', message: 'no probe is running' },
      });
    }
    const args = EffectArgsSchemas[message.op].safeParse(message.args);
    if (!args.success) {
      this.emit({ kind: 'sandbox-protocol', probe: run.probe, detail: `malformed ${message.op} request` });
      return reply({
        t: 'effect-result',
        id: message.id,
        ok: false,
        error: { code: 'SONDE_ERR_PERMISSION_DENIED', message: `malformed ${message.op} request` },
      });
    }
    if (run.effectsInFlight >= MAX_EFFECTS_IN_FLIGHT) {
      this.emit({ kind: 'sandbox-protocol', probe: run.probe, detail: `more than ${MAX_EFFECTS_IN_FLIGHT} effects at once` });
      return reply({
        t: 'effect-result',
        id: message.id,
        ok: false,
        error: { code: 'SONDE_ERR_PERMISSION_DENIED', message: `at most ${MAX_EFFECTS_IN_FLIGHT} effects may run at once` },
      });
    }
    run.effectsInFlight++;
    try {
      const context = this.effectsOf(run).context;
      let value: unknown;
      switch (message.op) {
        case 'exec': {
          const [binary, argv, options] = args.data as [string, string[], Parameters<ProbeContext['exec']>[2]];
          value = await context.exec(binary, argv, options);
          break;
        }
        case 'readFile': {
          const [file, options] = args.data as [string, Parameters<ProbeContext['readFile']>[1]];
          value = await context.readFile(file, options);
          break;
        }
        case 'listDir':
          value = await context.listDir((args.data as [string])[0]);
          break;
        case 'http': {
          const [url, request] = args.data as [string, Parameters<ProbeContext['http']>[1]];
          value = await context.http(url, request);
          break;
        }
      }
      reply({ t: 'effect-result', id: message.id, ok: true, value });
    } catch (error) {
      const code = isSondeError(error) ? error.code : 'SONDE_ERR_PROBE_FAILED';
      const text = error instanceof Error ? error.message : String(error);
      if (DENIED_CODES.has(code)) this.emit({ kind: 'effect-refused', probe: run.probe, detail: `${message.op}: ${text}` });
      reply({ t: 'effect-result', id: message.id, ok: false, error: { code, message: text.slice(0, 3000) } });
    } finally {
      run.effectsInFlight--;
    }
  }

  private onResult(message: Extract<ChildMessage, { t: 'result' }>): void {
    const run = this.finishRun(message.id);
    if (!run) return;
    // No /proc reading here: the CPU limit is enforced by the monitor while the run is in flight (checkUsage), and a
    // reading at the end only reported a figure nobody used (one pread and parse per call, ~1 % of the agent's CPU).
    if (message.ok) return run.resolve({ result: message.result, durationMs: performance.now() - run.started });
    const code = (message.error?.code ?? 'SONDE_ERR_PROBE_FAILED') as never;
    const text = message.error?.message ?? 'the probe failed';
    if (message.accessDenied)
      this.emit({
        kind: 'sandbox-denied',
        probe: run.probe,
        detail: `Node's permission model refused ${message.accessDenied} (reported by the pack process): ${text}`,
      });
    if (code === 'SONDE_ERR_TIMEOUT' && run.timeoutIsPacks) this.trip('wall-time', `${run.probe}: ${text}`, run.probe);
    if (code === 'SONDE_ERR_OUTPUT_LIMIT') this.trip('output', `${run.probe}: ${text}`, run.probe);
    run.reject(new SondeError(code, text));
  }

  private finishRun(id: number): RunRecord | undefined {
    const run = this.runs.get(id);
    if (!run) return undefined;
    this.runs.delete(id);
    clearTimeout(run.timer);
    run.effects?.controller.abort(PROBE_FINISHED);
    if (this.runs.size === 0) {
      this.stopMonitor();
      this.armIdleStop();
    }
    return run;
  }

  /**
   * Stops a ready process that has nothing to do once `idleStopMs` passes. The
   * runner goes back to `idle` (not a trip, not a crash) and the next run starts
   * a fresh process; the old one is detached first so its exit changes nothing.
   */
  private armIdleStop(): void {
    clearTimeout(this.idleTimer);
    if (this.limits.idleStopMs === 0) return;
    this.idleTimer = setTimeout(() => {
      const generation = this.generation;
      if (!generation || this.status !== 'ready' || this.runs.size > 0) return;
      this.generation = undefined;
      this.status = 'idle';
      this.idleStops++;
      this.kill(generation, {
        reason: 'crash',
        detail: `no probe for ${this.limits.idleStopMs} ms: stopped until the next one`,
        trip: false,
      });
    }, this.limits.idleStopMs);
    this.idleTimer.unref();
  }

  /** The run's host context, made on its first effect. */
  private effectsOf(run: RunRecord): { controller: AbortController; context: ProbeContext } {
    if (run.effects) return run.effects;
    const controller = new AbortController();
    const context = createHostContext({
      permissions: this.options.permissions,
      signal: controller.signal,
      deniedPaths: this.options.deniedPaths,
      timeoutMs: run.limit,
      maxOutputBytes: run.maxOutputBytes,
      credentials: this.options.credentials,
      endpoint: this.options.endpoint,
    });
    run.effects = { controller, context };
    return run.effects;
  }

  /** CPU time of the generation's node process so far (ms), when /proc says. */
  private cpuOf(generation: Generation | undefined): number | undefined {
    if (generation?.pid === undefined) return undefined;
    generation.cpu ??= new ProcessCpu(generation.pid);
    return generation.cpu.ms();
  }

  private startMonitor(): void {
    if (this.monitor) return;
    this.monitor = setInterval(() => this.checkUsage(), MONITOR_INTERVAL_MS);
    this.monitor.unref();
  }

  private stopMonitor(): void {
    if (this.monitor) clearInterval(this.monitor);
    this.monitor = undefined;
  }

  private checkUsage(): void {
    const generation = this.generation;
    if (!generation?.pid || generation.killReason) return;
    // One reading per tick, whatever the number of runs in flight (it was one per run).
    const now = this.cpuOf(generation) ?? Number.NaN;
    for (const run of this.runs.values()) {
      // NaN (no reading now or at the start) is never over the limit.
      const used = now - (run.cpuStart ?? Number.NaN);
      if (used > this.limits.cpuMs) {
        this.kill(generation, {
          reason: 'cpu',
          runId: run.id,
          detail: `${run.probe} used ${Math.round(used)} ms of CPU; the limit is ${this.limits.cpuMs} ms`,
          trip: true,
        });
        return;
      }
    }
    const rss = residentBytes(generation.pid);
    if (rss !== undefined && rss > this.limits.maxRssMb * 1024 * 1024) {
      const runId = this.runs.size === 1 ? [...this.runs.keys()][0] : undefined;
      this.kill(generation, {
        reason: 'memory',
        runId,
        detail: `resident memory ${Math.round(rss / 1048576)} MB; the limit is ${this.limits.maxRssMb} MB`,
        trip: true,
      });
    }
  }

  /** SIGKILL to the whole process group (unshare and node alike). */
  private kill(generation: Generation, why: KillReason): void {
    if (generation.killReason) return;
    generation.killReason = why;
    const pid = generation.process.pid;
    try {
      if (pid !== undefined) process.kill(-pid, 'SIGKILL');
    } catch {
      generation.process.kill('SIGKILL');
    }
    generation.channel.destroy();
  }

  private onExit(generation: Generation, code: number | null, signal: NodeJS.Signals | null): void {
    generation.cpu?.close();
    if (this.generation !== generation) return;
    this.generation = undefined;
    const wasReady = this.status === 'ready';
    let why = generation.killReason;
    const recordTrip = why ? why.trip : wasReady;
    if (!why) {
      const oom = /heap out of memory|Allocation failed/i.test(generation.stderrTail);
      why = {
        reason: oom ? 'memory' : 'crash',
        detail: oom ? 'the pack ran out of heap' : this.exitSummary(generation, code, signal),
        trip: wasReady,
      };
    }
    for (const run of [...this.runs.values()]) {
      this.finishRun(run.id);
      const own = why.runId === undefined || why.runId === run.id;
      run.reject(errorFor(why.reason, own ? why.detail : `the pack process was restarted: ${why.detail}`, own));
    }
    if (this.status === 'closed' || this.status === 'failed' || this.status === 'quarantined') return;
    // trip() may quarantine the pack; then it stays down.
    if (recordTrip && this.trip(why.reason, why.detail, undefined)) return;
    if (wasReady) {
      this.status = 'idle';
      this.restarts++;
      // Restart at once so the next probe finds the pack loaded; a failure shows in the state.
      this.start().catch(() => undefined);
    }
  }

  private pruneTrips(): void {
    const since = Date.now() - this.limits.tripWindowMs;
    this.tripTimes = this.tripTimes.filter((time) => time >= since);
  }

  /** Records a limit trip; true when it quarantined the pack. */
  private trip(reason: LimitReason, detail: string, probe: string | undefined): boolean {
    this.lastTrip = reason;
    this.tripTimes.push(Date.now());
    this.pruneTrips();
    this.emit({ kind: 'sandbox-limit', probe, detail: `${reason}: ${detail}` });
    if (this.tripTimes.length >= this.limits.maxTrips && this.status !== 'closed') {
      this.status = 'quarantined';
      this.reason = `${this.tripTimes.length} limit trips within ${Math.round(this.limits.tripWindowMs / 1000)} s, last: ${reason}`;
      this.emit({ kind: 'sandbox-quarantined', probe, detail: this.reason });
      if (this.generation) this.kill(this.generation, { reason, detail: 'quarantined', trip: false });
      return true;
    }
    return false;
  }
}

function errorFor(reason: LimitReason, detail: string, own: boolean): SondeError {
  const details = own ? { limit: reason } : { restarted: true };
  if (own && reason === 'wall-time') return new SondeError('SONDE_ERR_TIMEOUT', detail, details);
  if (own && reason === 'output') return new SondeError('SONDE_ERR_OUTPUT_LIMIT', detail, details);
  return new SondeError('SONDE_ERR_PROBE_FAILED', own ? `${reason} limit: ${detail}` : detail, details);
}

function defaultPrefix(packDir: string): string {
  let dir = packDir;
  while (path.basename(dir) !== 'node_modules') {
    const parent = path.dirname(dir);
    if (parent === dir) return path.dirname(packDir);
    dir = parent;
  }
  return path.dirname(dir);
}

/** A pack process per call site: see README.md for the isolation it gets and what it costs. */
export function createSandboxRunner(options: SandboxRunnerOptions): SandboxRunner {
  return new Runner(options);
}
