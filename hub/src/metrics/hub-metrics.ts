import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DispatchResult, Fleet, ProbeDispatcher } from '../services.js';

/**
 * The hub's Prometheus metrics, on a registry of its own (several hubs can live
 * in one test process; nothing here touches prom-client's global registry).
 * Labels are bounded: a pack name is a label only when it looks like one and
 * fewer than MAX_PACK_LABELS were seen, so a caller inventing probe names
 * cannot grow the series count. No label ever carries an agent name, a key id
 * or a user: the endpoint may be scraped without authentication.
 */

/** Distinct `pack` label values kept; later ones are counted as `other`. */
export const MAX_PACK_LABELS = 200;
const PACK_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** What one audit export sink reports about itself (hub/src/audit export). */
export interface ExportSinkState {
  sink: string;
  /** Committed entries not yet acknowledged by the sink. */
  lagEntries: number;
  /** Age of the oldest unacknowledged entry (0 when caught up). */
  lagSeconds: number;
  /** True while the last delivery failed. */
  failing: boolean;
}

export interface MetricsSources {
  fleet: Pick<Fleet, 'list'>;
  audit: { queueDepth(): number };
  /** Audit export sinks (none configured: empty). */
  exportSinks?: () => ExportSinkState[];
  /**
   * Agent admission (hub/src/gateway/admission.ts): the cap, sockets not yet registered, upgrades refused 503 (cap
   * reached) and 429 (the caller already held its share of places).
   */
  admission?: () => { limit: number; pending: number; refused: number; callerRefused: number };
}

export interface HubMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Records one dispatched probe (what `instrumentDispatcher` calls). */
  observeProbe(probe: string, result: Pick<DispatchResult, 'status' | 'durationMs'>): void;
  /** The exposition text. */
  render(): Promise<string>;
  close(): void;
}

export function createHubMetrics(sources: MetricsSources): HubMetrics {
  const registry = new Registry();
  // Process and runtime: resident memory, heap, event-loop lag (a histogram of the loop's delay), GC, handles.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

  const packs = new Set<string>();
  const packLabel = (probe: string): string => {
    const pack = probe.split('.', 1)[0] ?? '';
    if (!PACK_NAME.test(pack)) return 'other';
    if (packs.has(pack)) return pack;
    if (packs.size >= MAX_PACK_LABELS) return 'other';
    packs.add(pack);
    return pack;
  };

  const calls = new Counter({
    name: 'sonde_probe_calls_total',
    help: 'Probe calls dispatched to agents, by pack and outcome (ok, error, timeout, offline, denied).',
    labelNames: ['pack', 'status'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'sonde_probe_errors_total',
    help: 'Probe calls that did not end ok, by pack.',
    labelNames: ['pack'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'sonde_probe_duration_seconds',
    help: 'Time from dispatch to the agent answer (or timeout), by pack.',
    labelNames: ['pack'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });

  new Gauge({
    name: 'sonde_agents_connected',
    help: 'Agents with a registered connection to this hub.',
    registers: [registry],
    collect() {
      this.set(sources.fleet.list().filter((agent) => agent.connected).length);
    },
  });
  new Gauge({
    name: 'sonde_agents',
    help: 'Enrolled agents by status (online, offline, degraded).',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts = { online: 0, offline: 0, degraded: 0 };
      for (const agent of sources.fleet.list()) counts[agent.status] += 1;
      for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'sonde_audit_queue_depth',
    help: 'Audit entries waiting for their group commit.',
    registers: [registry],
    collect() {
      this.set(sources.audit.queueDepth());
    },
  });
  const sinks = sources.exportSinks ?? (() => []);
  new Gauge({
    name: 'sonde_audit_export_lag_entries',
    help: 'Committed audit entries an export sink has not acknowledged yet.',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      this.reset();
      for (const sink of sinks()) this.set({ sink: sink.sink }, sink.lagEntries);
    },
  });
  new Gauge({
    name: 'sonde_audit_export_lag_seconds',
    help: 'Age of the oldest audit entry an export sink has not acknowledged (0 when caught up).',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      this.reset();
      for (const sink of sinks()) this.set({ sink: sink.sink }, sink.lagSeconds);
    },
  });
  new Gauge({
    name: 'sonde_audit_export_failing',
    help: '1 while an export sink\u2019s last delivery failed.',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      this.reset();
      for (const sink of sinks()) this.set({ sink: sink.sink }, sink.failing ? 1 : 0);
    },
  });
  const admission = sources.admission;
  if (admission) {
    new Gauge({
      name: 'sonde_agent_admission_pending',
      help: 'Agent sockets upgrading or upgraded but not yet registered (at most sonde_agent_admission_limit).',
      registers: [registry],
      collect() {
        this.set(admission().pending);
      },
    });
    new Gauge({
      name: 'sonde_agent_admission_limit',
      help: 'SONDE_AGENT_ADMISSION_MAX: agent sockets admitted at once before they register (0: no limit).',
      registers: [registry],
      collect() {
        this.set(admission().limit);
      },
    });
    let refusedSeen = 0;
    new Counter({
      name: 'sonde_agent_admission_refused_total',
      help: 'Agent upgrades answered 503 + Retry-After because the admission limit was reached (load shed, not audited).',
      registers: [registry],
      collect() {
        const refused = admission().refused;
        this.inc(refused - refusedSeen);
        refusedSeen = refused;
      },
    });
    let callerRefusedSeen = 0;
    new Counter({
      name: 'sonde_agent_admission_caller_refused_total',
      help: 'Agent upgrades answered 429 + Retry-After because one caller (certificate, key or agent) already held its share of unregistered places (not audited).',
      registers: [registry],
      collect() {
        const refused = admission().callerRefused;
        this.inc(refused - callerRefusedSeen);
        callerRefusedSeen = refused;
      },
    });
  }

  return {
    registry,
    contentType: registry.contentType,
    observeProbe(probe, result) {
      const pack = packLabel(probe);
      calls.inc({ pack, status: result.status });
      if (result.status !== 'ok') errors.inc({ pack });
      latency.observe({ pack }, result.durationMs / 1000);
    },
    render: () => registry.metrics(),
    close: () => registry.clear(),
  };
}

/** The dispatcher with every call counted and timed (the hub wraps the gateway's dispatcher once). */
export function instrumentDispatcher(dispatcher: ProbeDispatcher, metrics: Pick<HubMetrics, 'observeProbe'>): ProbeDispatcher {
  return {
    async dispatch(request) {
      const started = performance.now();
      try {
        const result = await dispatcher.dispatch(request);
        metrics.observeProbe(request.probe, { status: result.status, durationMs: result.durationMs || performance.now() - started });
        return result;
      } catch (error) {
        metrics.observeProbe(request.probe, { status: 'error', durationMs: performance.now() - started });
        throw error;
      }
    },
  };
}
