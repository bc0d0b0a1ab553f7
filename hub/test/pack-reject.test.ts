import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollAgent, RawAgent, startHubUnderAttack, type HubUnderAttack } from './security/support.js';

/**
 * `POST /api/v1/agents/:id/packs/:pack/reject` against a real hub process and
 * raw agents speaking the signed protocol: an agent that does not announce
 * the `pack-reject` feature (every agent before it) is never sent a message
 * type it would refuse as a bad frame; the admin gets a 409 that says why and
 * the refusal is audited. One that announces it gets `hub.packs.reject`
 * pinned to the reviewed digest, and the agent's refusal of a stale digest
 * comes back as a 409 too.
 */
let target: HubUnderAttack;
const DIGEST = 'e'.repeat(64);
const pending = {
  packs: [
    {
      name: 'demo',
      version: '1.0.0',
      state: 'pending' as const,
      pending: { version: '1.0.0', permissionsSha256: DIGEST, added: [], permissions: {} },
    },
  ],
};

beforeAll(async () => {
  target = await startHubUnderAttack();
});
afterAll(async () => {
  await target.stop();
});

const reject = (agent: string) =>
  api(target.url, target.adminKey, 'POST', `/api/v1/agents/${agent}/packs/demo/reject`, { version: '1.0.0', permissionsSha256: DIGEST });

describe('rejecting a pending pack through the hub', () => {
  it('refuses (409) for an agent too old to take a rejection, sends it nothing, and audits the refusal', async () => {
    const old = await RawAgent.online(await enrollAgent(target.url, target.adminKey, 'old-1'), pending);
    try {
      const answer = await reject('old-1');
      expect(answer.status).toBe(409);
      expect(String((answer.json.error as { message: string }).message)).toMatch(/cannot reject a pack from the hub; upgrade it/);
      expect(old.received.some((message) => message.type === 'hub.packs.reject')).toBe(false);
      const audit = await api(target.url, target.adminKey, 'GET', '/api/v1/audit?tool=agent.pack.reject&agent=old-1');
      expect((audit.json.entries as Array<{ status: string }>).map((entry) => entry.status)).toEqual(['error']);
    } finally {
      old.close();
    }
  });

  it('passes the agent’s own refusal back as a 409 (its candidate is another digest)', async () => {
    const agent = await RawAgent.online(await enrollAgent(target.url, target.adminKey, 'new-1'), pending, ['drain', 'pack-reject']);
    try {
      const asked = agent.next('hub.packs.reject');
      const answer = reject('new-1');
      const request = await asked;
      expect(request.payload).toMatchObject({
        pack: 'demo',
        version: '1.0.0',
        permissionsSha256: DIGEST,
        by: expect.stringMatching(/^hub:/),
      });
      agent.send('agent.packs.reject.result', {
        requestId: (request.payload as { requestId: string }).requestId,
        ok: false,
        error: { code: 'SONDE_ERR_APPROVAL_MISMATCH', message: 'this agent holds another candidate' },
      });
      const result = await answer;
      expect(result.status).toBe(409);
      expect(String((result.json.error as { message: string }).message)).toContain('this agent holds another candidate');
    } finally {
      agent.close();
    }
  });
});
