import { realpathSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { PROTOCOL_VERSION } from '@sonde/pack-sdk/protocol';
import type { Logger } from 'pino';
import { AuditRing } from '../audit/ring.js';
import { loadConfig, packsDirOf } from '../config/load.js';
import { ensureHome, type HomePaths } from '../home.js';
import { loadIdentity } from '../identity/identity.js';
import { preparePacksDir } from '../packs/store.js';
import { packEventsFile } from '../packs/events.js';
import { trustFiles } from '../packs/trust.js';
import { applyRevocations, approveFromHub, PackEventForwarder, rejectFromHub } from './hub-packs.js';
import { replayUpdateAudit } from '../self-update/audit.js';
import { agentVersion } from '../version.js';
import { buildAttestation } from './attestation.js';
import { HubConnection, type ConnectionState } from './connection.js';
import { isolationFor, sandboxGapFor } from './isolation.js';
import { ProbeExecutor } from './executor.js';
import { loadPacks } from './load-packs.js';
import { PackRunnerPool, prepareOsSandbox } from '@sonde/pack-sdk/sandbox';
import { packProcessBundle } from '../sandbox/pack-process.js';
import { createAgentScrubber } from './scrub.js';
import { writeAuditFile, writeStatus, type RuntimeStatus } from './status-file.js';

/** The audit file is at most this far behind the ring (agent.ts, flushAudit). */
const AUDIT_FLUSH_MS = 1_000;

export interface RunningAgent {
  stop(): Promise<void>;
}

export async function startAgent(paths: HomePaths, log: Logger): Promise<RunningAgent> {
  ensureHome(paths.home);
  const config = loadConfig(paths);
  const identity = loadIdentity(paths);
  const packsDir = packsDirOf(paths, config);
  preparePacksDir(packsDir);
  // Real paths: a pack asking through a symlinked path still hits the denial.
  const deniedPaths = [...new Set([paths.home, realpathSync(paths.home)])];
  // The executor and the sandbox report refused effects over the connection built after them.
  const link: { connection?: HubConnection; quarantine?: (pack: string, reason: string) => void } = {};
  // Started by `sonde start` while the modules loaded (the same probes a synchronous detection would run).
  if (config.sandbox.mode === 'process' && config.sandbox.namespaces !== 'none') await prepareOsSandbox();
  const pool =
    config.sandbox.mode === 'process'
      ? new PackRunnerPool({
          packsDir,
          deniedPaths,
          limits: config.sandbox.limits,
          nodePath: config.sandbox.nodePath,
          osSandbox: config.sandbox.namespaces,
          bundle: packProcessBundle(),
          onSecurityEvent: (event) => {
            log.warn({ pack: event.pack, probe: event.probe, kind: event.kind }, `security: ${event.detail}`);
            link.connection?.send('agent.security', event);
            if (event.kind === 'sandbox-quarantined' && event.pack) link.quarantine?.(event.pack, event.detail);
          },
        })
      : undefined;
  const isolation = isolationFor(config);
  const gap = sandboxGapFor(config);
  if (gap) log.warn({ isolation }, `the pack sandbox is degraded on this host: ${gap}`);
  // Register as soon as the packs are verified; their processes finish starting meanwhile (see settled below).
  const loaded = await loadPacks(paths, packsDir, log, pool, { deferStart: true });
  // Mutated in place on reload: the executor and the registration read the current state.
  const active = loaded.active;
  let statuses = loaded.statuses;

  const audit = new AuditRing(config.auditSize);
  const executor = new ProbeExecutor({
    packs: active,
    deniedPaths,
    scrub: createAgentScrubber(config),
    audit,
    maxConcurrency: config.maxConcurrency,
    maxQueue: config.maxQueue,
    log,
    onSecurityEvent: (event) => link.connection?.send('agent.security', event),
  });

  const startedAt = new Date().toISOString();
  let lastState: ConnectionState = { connected: false, registered: false, connects: 0, rejectedFrames: 0 };
  const publish = (running = true): void => {
    const status: RuntimeStatus = {
      pid: process.pid,
      startedAt,
      updatedAt: new Date().toISOString(),
      running,
      connected: running && lastState.connected,
      registered: running && lastState.registered,
      lastRegisteredAt: lastState.lastRegisteredAt,
      lastError: lastState.lastError,
      connects: lastState.connects,
      rejectedFrames: lastState.rejectedFrames,
      isolation,
      packs: statuses.map(({ name, version, state, reason }) => ({ name, version, state, ...(reason ? { reason } : {}) })),
    };
    writeStatus(paths.status, status);
  };

  // The audit file mirrors the ring for `sonde audit`; writes are coalesced. It is the whole ring (up to its capacity
  // of entries) rewritten and renamed each time: once a second at most, so sustained calls do not spend a tenth of the
  // agent's CPU rewriting it (the ring in memory is the record; the file is at most a second behind, flushed on stop).
  let auditTimer: NodeJS.Timeout | undefined;
  const flushAudit = (): void => {
    auditTimer = undefined;
    writeAuditFile(paths.audit, audit.list());
  };
  const originalAppend = audit.append.bind(audit);
  audit.append = (input) => {
    const entry = originalAppend(input);
    auditTimer ??= setTimeout(flushAudit, AUDIT_FLUSH_MS);
    return entry;
  };
  // `sonde update` outcomes recorded while this agent was not running join the ring now.
  replayUpdateAudit(paths, audit);
  flushAudit();

  let registrations = 0;
  const connection = new HubConnection({
    identity,
    reloadIdentity: () => loadIdentity(paths),
    executor,
    log,
    backoff: config.reconnect,
    ...(config.hubUrls ? { hubUrls: config.hubUrls } : {}),
    registration: () => {
      // The first registration follows the start's verification at once: its digests, not a second read of
      // every pack file. Later ones (reconnects) hash the folders again, reporting what is on disk then.
      const fresh = registrations++ === 0;
      return {
        name: identity.name,
        agentVersion: agentVersion(),
        protocolVersion: PROTOCOL_VERSION,
        attestation: buildAttestation(
          config,
          [...active.values()].map(({ installed }) => ({
            name: installed.name,
            version: installed.version,
            dir: installed.dir,
            ...(fresh ? { verifiedSha256: installed.verifiedTreeSha256 } : {}),
          })),
        ),
        packs: statuses,
        maxConcurrency: config.maxConcurrency,
        isolation,
      };
    },
    onStateChange: (state) => {
      lastState = state;
      publish();
    },
    onRegistered: () => {
      startPacks();
      forwarder.flush();
    },
    onRevocations: (list) => {
      const applied = applyRevocations(paths, list, log);
      if (applied.error) connection.send('agent.security', { kind: 'revocations-refused', detail: applied.error.slice(0, 2000) });
      if (applied.changed) void reload().then(() => forwarder.flush());
    },
    onPackApprove: async (request) => {
      const result = await approveFromHub(paths, packsDir, request);
      log.info({ pack: request.pack, version: request.version, by: request.by, ok: result.ok }, 'approval from the hub');
      if (result.ok) await reload();
      forwarder.flush();
      return result;
    },
    onPackReject: async (request) => {
      const result = await rejectFromHub(paths, packsDir, request);
      log.info({ pack: request.pack, version: request.version, by: request.by, ok: result.ok }, 'rejection from the hub');
      // Reloading reports the pack without the rejected version pending (agent.packs) before the answer goes back.
      if (result.ok) await reload();
      forwarder.flush();
      return result;
    },
  });
  const forwarder = new PackEventForwarder(paths, (events) =>
    connection.send('agent.pack-events', {
      events: events.map(({ seq, time, action, pack, version, from, outcome, detail, by, hash }) => ({
        seq,
        time,
        action,
        pack,
        outcome,
        hash,
        ...(version ? { version } : {}),
        ...(from ? { from } : {}),
        ...(detail ? { detail } : {}),
        ...(by ? { by } : {}),
      })),
    }),
  );
  link.connection = connection;
  // A quarantined pack shows as failed (sonde status, the hub) until the operator approves it again.
  link.quarantine = (pack, reason) => {
    statuses = statuses.map((status) =>
      status.name === pack
        ? {
            name: status.name,
            version: status.version,
            state: 'failed',
            reason: `quarantined: ${reason}; re-approve to release (sonde packs approve ${pack})`.slice(0, 500),
          }
        : status,
    );
    active.delete(pack);
    connection.send('agent.packs', { packs: statuses });
    publish();
  };
  publish();
  connection.start();

  // `sonde packs approve/update/remove` and `sonde trust` take effect without a restart: the
  // approvals, trust and revocation files are polled, every pack is verified again, and the hub
  // is told with agent.packs. A new version lives in its own folder, so its code loads fresh.
  // One reload at a time; a request during a reload runs once more after it, so the last change always lands.
  let reloading: Promise<void> | undefined;
  let again = false;
  const reloadOnce = async (): Promise<void> => {
    reloads++;
    try {
      const next = await loadPacks(paths, packsDir, log, pool);
      active.clear();
      for (const [name, pack] of next.active) active.set(name, pack);
      const changed = JSON.stringify(next.statuses) !== JSON.stringify(statuses);
      statuses = next.statuses;
      if (changed) {
        log.info({ packs: statuses.map(({ name, version, state }) => `${name}@${version}:${state}`) }, 'pack states changed');
        connection.send('agent.packs', { packs: statuses });
        publish();
      }
    } catch (error) {
      log.error({ err: (error as Error).message }, 'reloading packs failed');
    }
  };
  const reload = (): Promise<void> => {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      do {
        again = false;
        await reloadOnce();
      } while (again);
      reloading = undefined;
    })();
    return reloading;
  };
  // Once every pack process is up, correct what the first registration said (a pack whose code asks for other
  // permissions is pending, one that cannot start is failed); a reload in between has newer facts and wins.
  // They start once the agent has registered (or after 2 s without a hub), so they do not compete with it for CPU.
  let reloads = 0;
  let startedPacks = false;
  const startPacks = (): void => {
    if (startedPacks || !loaded.startAll) return;
    startedPacks = true;
    clearTimeout(startTimer);
    void loaded.startAll().then(applyStarted);
  };
  const startTimer = setTimeout(startPacks, 2_000);
  startTimer.unref();
  const applyStarted = (final: Awaited<ReturnType<NonNullable<typeof loaded.startAll>>>): void => {
    if (reloads > 0) return;
    active.clear();
    for (const [name, pack] of final.active) active.set(name, pack);
    if (JSON.stringify(final.statuses) === JSON.stringify(statuses)) return;
    statuses = final.statuses;
    connection.send('agent.packs', { packs: statuses });
    publish();
  };
  // fs.watchFile also fires when a file is only read (atime): react to real changes alone.
  const changed = (listener: () => void) => (curr: Stats, prev: Stats) => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) listener();
  };
  const onApprovalsChange = changed(() => void reload());
  const watched = [paths.approvals, trustFiles(paths).store, trustFiles(paths).revocations];
  for (const file of watched) watchFile(file, { interval: 1000, persistent: false }, onApprovalsChange);
  // Every pack operation on this host (sonde packs install …) is re-read, so the hub sees a new pending
  // version at once, and its event reaches the hub's audit chain.
  const onEvents = changed(() => void reload().then(() => forwarder.flush()));
  watchFile(packEventsFile(paths), { interval: 1000, persistent: false }, onEvents);

  return {
    async stop(): Promise<void> {
      for (const file of watched) unwatchFile(file, onApprovalsChange);
      unwatchFile(packEventsFile(paths), onEvents);
      await connection.stop();
      await pool?.closeAll();
      clearTimeout(auditTimer);
      flushAudit();
      publish(false);
    },
  };
}
