import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCsr } from '../helpers.js';
import { api, enrollAgent, startHubUnderAttack, type EnrolledAgent, type HubUnderAttack } from './support.js';

/** Issue 19, "replay and identity": lookalike and id-shaped agent names, against a real hub process. */
describe('agent names cannot pass for another agent (real hub process)', () => {
  let target: HubUnderAttack;
  let web: EnrolledAgent;

  beforeAll(async () => {
    target = await startHubUnderAttack();
    web = await enrollAgent(target.url, target.adminKey, 'web-1');
  }, 60_000);
  afterAll(() => target?.stop());

  async function enrollWith(tokenName: string | undefined, name: string): Promise<{ status: number; code?: string }> {
    const token = await api(target.url, target.adminKey, 'POST', '/api/v1/enrollment-tokens', tokenName ? { name: tokenName } : {});
    if (token.status !== 201) return { status: token.status, code: token.json.error?.code };
    const answer = await api(target.url, token.json.token, 'POST', '/api/v1/enroll', {
      name,
      csrPem: makeCsr(name),
      agentVersion: '0.1.0',
    });
    return { status: answer.status, code: answer.json.error?.code };
  }

  it('refuses a name that differs from an existing agent only in case, bound token or not', async () => {
    for (const [tokenName, name] of [
      ['WEB-1', 'WEB-1'],
      [undefined, 'Web-1'],
    ] as const) {
      const answer = await enrollWith(tokenName, name);
      expect(answer, name).toEqual({ status: 409, code: 'SONDE_ERR_NAME_TAKEN' });
    }
    const agents = (await api(target.url, target.adminKey, 'GET', '/api/v1/agents')).json as Array<{ name: string }>;
    expect(agents.map((agent) => agent.name)).toEqual(['web-1']);
    // The real agent re-enrolls under its own name with a token bound to it.
    expect((await enrollWith('web-1', 'web-1')).status).toBe(201);
  });

  it("refuses a name shaped like an agent id, the other agent's own id included", async () => {
    const idShaped = [web.id, web.id.toUpperCase(), web.id.replaceAll('-', ''), '00000000-0000-4000-8000-000000000000'];
    for (const name of idShaped) {
      expect(await enrollWith(name, name), name).toEqual({ status: 409, code: 'SONDE_ERR_NAME_TAKEN' });
      expect(await enrollWith(undefined, name), name).toEqual({ status: 409, code: 'SONDE_ERR_NAME_TAKEN' });
    }
    // The refusals are audited.
    const audit = await api(target.url, target.adminKey, 'GET', '/api/v1/audit?tool=agent.enroll');
    expect((audit.json.entries as Array<{ status: string }>).filter((entry) => entry.status === 'denied').length).toBeGreaterThanOrEqual(6);
  });
});
