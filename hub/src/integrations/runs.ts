import { SondeError } from '@sonde/pack-sdk';
import { createScrubber } from '@sonde/pack-sdk/scrubber';
import type { IntegrationInstanceRecord } from '../store/types.js';
import { judgeConnection, pickConnectionProbe } from './connection.js';
import type { IntegrationDeps } from './context.js';
import type { Instances } from './instances.js';
import type { ServingPacks } from './serving.js';
import type { Actor, InstanceView, ProbeRunOutcome } from './types.js';

/** Deep copy with every occurrence of a secret value replaced: a pack must not echo the instance's credentials. */
function redactValues(value: unknown, secrets: string[]): { value: unknown; count: number } {
  let count = 0;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      let out = node;
      for (const secret of secrets) {
        if (out.includes(secret)) {
          count++;
          out = out.split(secret).join('[REDACTED]');
        }
      }
      return out;
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return { value: walk(value), count };
}

/**
 * Probe runs on an instance, in that instance's sandboxed process, with its credentials opened only for the run;
 * results are scrubbed and any credential value a pack echoes is redacted. "Test Connection" is one such run.
 */
export class InstanceRuns {
  private readonly scrubber = createScrubber();

  constructor(
    private readonly deps: IntegrationDeps,
    private readonly serving: ServingPacks,
    private readonly instances: Instances,
  ) {}

  /**
   * "Test Connection": runs the pack's connection probe (connection.ts says
   * which) on this instance and stores Connected or Error with the reason.
   */
  async testConnection(idOrName: string, actor: Actor): Promise<InstanceView & { probe: string | null; durationMs: number }> {
    const record = await this.instances.requireInstance(idOrName);
    const started = performance.now();
    let status: 'connected' | 'error';
    let error: string | null = null;
    let probe: string | null = null;
    try {
      const active = this.serving.activePack(record.pack);
      if (!active) throw new SondeError('SONDE_ERR_PROBE_FAILED', await this.serving.unavailableReason(record.pack));
      probe = pickConnectionProbe(active.manifest);
      if (!probe) throw new SondeError('SONDE_ERR_PROBE_FAILED', `pack ${record.pack} has no probe that runs without parameters`);
      const outcome = await this.runRecord(record, probe, {});
      error = judgeConnection(outcome.result);
      status = error ? 'error' : 'connected';
    } catch (caught) {
      status = 'error';
      error =
        caught instanceof SondeError ? `${caught.code}: ${caught.message}` : caught instanceof Error ? caught.message : String(caught);
    }
    const durationMs = Math.round(performance.now() - started);
    const now = new Date().toISOString();
    await this.deps.options.store.transaction(async (tx) => {
      await tx.integrations.updateInstance(record.id, { status, lastError: error, lastCheckedAt: now });
      await this.deps.audit(
        actor,
        {
          action: 'integration.instance.test',
          status: status === 'connected' ? 'ok' : 'error',
          probe: probe ? `${record.pack}.${probe}` : null,
          agents: [record.name],
          durationMs,
          params: { instance: record.name },
          detail: error?.slice(0, 1000) ?? null,
        },
        tx,
      );
    });
    return { ...(await this.instances.getInstance(record.id)), probe, durationMs };
  }

  /** Runs a probe of the instance's pack (local probe name) in the instance's sandbox; throws SondeError. */
  async run(instanceName: string, probe: string, params: Record<string, unknown>, timeoutMs?: number): Promise<ProbeRunOutcome> {
    const record = await this.deps.options.store.integrations.getInstance(instanceName);
    if (!record) throw new SondeError('SONDE_ERR_PROBE_FAILED', `no integration instance ${instanceName}`);
    return this.runRecord(record, probe, params, timeoutMs);
  }

  private async runRecord(
    record: IntegrationInstanceRecord,
    probe: string,
    params: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<ProbeRunOutcome> {
    const active = this.serving.activePack(record.pack);
    if (!active) throw new SondeError('SONDE_ERR_PROBE_FAILED', await this.serving.unavailableReason(record.pack));
    const credentials = this.instances.openCredentials(record);
    const runner = this.deps.runners.get(record, active, credentials);
    const outcome = await runner.run(probe, params, timeoutMs);
    const scrubbed = this.scrubber.scrub(outcome.result);
    const secrets = Object.values(credentials).filter((v) => v.length >= 4);
    const redacted = redactValues(scrubbed.value, secrets);
    return {
      instance: record.name,
      probe,
      result: redacted.value,
      durationMs: outcome.durationMs,
      redactions: scrubbed.redactions + redacted.count,
    };
  }
}
