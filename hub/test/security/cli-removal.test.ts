import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCodes } from '../../src/gateway/codes.js';
import { runCli } from '../process.js';
import { enrollAgent, RawAgent, startHubUnderAttack, type HubUnderAttack } from './support.js';

/**
 * `sonde-hub agents remove` and `keys revoke` run on the database while the hub
 * runs. A removed agent must lose its session at once, not at a heartbeat that
 * may be minutes away (a compromised agent can simply stop sending them).
 */
let target: HubUnderAttack;

beforeAll(async () => {
  // Heartbeats an hour apart: nothing but the change itself can end the session within the test.
  target = await startHubUnderAttack({ SONDE_HEARTBEAT_MS: '3600000' });
});
afterAll(async () => {
  await target.stop();
});

async function closedWithin(agent: RawAgent, ms: number): Promise<{ code: number; reason: string } | 'still open'> {
  return Promise.race([agent.closed, new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), ms))]);
}

describe('removal by the CLI while the hub runs', () => {
  it('drops the removed agent’s connection at once and leaves the others connected', async () => {
    const doomed = await RawAgent.online(await enrollAgent(target.url, target.adminKey, 'doomed-1'));
    const bystander = await RawAgent.online(await enrollAgent(target.url, target.adminKey, 'bystander-1'));
    try {
      const removed = await runCli(['agents', 'remove', 'doomed-1'], target.env);
      expect(removed.code, removed.stderr).toBe(0);
      const closed = await closedWithin(doomed, 5_000);
      expect(closed).toMatchObject({ code: CloseCodes.removed });
      expect(await closedWithin(bystander, 500)).toBe('still open');
    } finally {
      doomed.close();
      bystander.close();
    }
  });

  it('drops an agent whose API key the CLI revokes', async () => {
    const enrolled = await enrollAgent(target.url, target.adminKey, 'revoked-1');
    const agent = await RawAgent.online(enrolled);
    try {
      const listed = await runCli(['keys', 'list', '--json'], target.env);
      expect(listed.code, listed.stderr).toBe(0);
      const keys = JSON.parse(listed.stdout) as Array<{ id: string; type: string; agentId: string | null }>;
      const key = keys.find((candidate) => candidate.type === 'agent' && candidate.agentId === enrolled.id);
      expect(key, 'the agent key is listed').toBeDefined();
      const revoked = await runCli(['keys', 'revoke', key!.id], target.env);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(await closedWithin(agent, 5_000)).toMatchObject({ code: CloseCodes.removed });
    } finally {
      agent.close();
    }
  });
});
