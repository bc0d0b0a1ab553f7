import type { PackManifest } from '@sonde/pack-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemManifest } from '../mcp/support/fake-packs.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { attestation, SimAgent } from './support/sim-agent.js';

/**
 * The hub keeps one parsed copy of each distinct pack manifest and of each distinct attestation, shared by every
 * agent that reported the same bytes (hub/src/store/manifests.ts). Shared only by content, and frozen: what one agent
 * reported can be neither replaced by another agent's report nor changed through another agent's view.
 */
let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub({ agents: 3 });
});
afterEach(async () => {
  await hub.close();
});

const manifest = JSON.parse(JSON.stringify(systemManifest)) as PackManifest;
const pack = (m: PackManifest) => ({ name: m.name, version: m.version, state: 'active' as const, manifest: m });
const attested = attestation({ packs: [{ name: manifest.name, version: manifest.version, sha256: 'c'.repeat(64) }] });
const viewManifest = (name: string) => hub.gateway.fleet.get(name)?.packs[0]?.manifest;

describe('manifests and attestations shared between agents', () => {
  it('two agents reporting the same manifest share one frozen copy; one re-registering with another keeps its own', async () => {
    const [a, b] = [await hub.enroll('web-01'), await hub.enroll('web-02')];
    const simA = await SimAgent.online(hub, a, { attestation: attested, packs: [pack(manifest)] });
    let simB = await SimAgent.online(hub, b, { attestation: attested, packs: [pack(manifest)] });

    const shared = viewManifest('web-01')!;
    expect(shared).toEqual(manifest);
    expect(viewManifest('web-02')).toBe(shared);
    expect(Object.isFrozen(shared)).toBe(true);
    expect(Object.isFrozen(shared.probes)).toBe(true);
    expect(Object.isFrozen(shared.probes[0])).toBe(true);
    // Nothing reached through one agent's view changes what the other reported (ES modules are strict: a write throws).
    expect(() => {
      (shared as { description: string }).description = 'changed through web-02';
    }).toThrow(TypeError);
    expect(() => {
      (shared.probes as unknown[]).push({});
    }).toThrow(TypeError);
    expect(viewManifest('web-01')?.description).toBe(manifest.description);

    // The stored baselines: one parsed attestation for both records, frozen.
    const [recordA, recordB] = [(await hub.store.agents.getById(a.id))!, (await hub.store.agents.getById(b.id))!];
    expect(recordA.attestationBaseline).toEqual(attested);
    expect(recordB.attestationBaseline).toBe(recordA.attestationBaseline);
    expect(Object.isFrozen(recordA.attestationBaseline?.packs[0])).toBe(true);

    // web-02 comes back with a manifest of its own (same name and version, other bytes): web-01 keeps what it reported.
    simB.close();
    await waitFor(() => hub.gateway.fleet.get('web-02')?.connected === false);
    const other = { ...manifest, description: 'Another build of the same version.' };
    simB = await SimAgent.online(hub, b, { attestation: attested, packs: [pack(other)] });
    expect(viewManifest('web-02')?.description).toBe('Another build of the same version.');
    expect(viewManifest('web-01')).toBe(shared);
    expect(viewManifest('web-01')?.description).toBe(manifest.description);
    expect(Object.isFrozen(viewManifest('web-02'))).toBe(true);

    // A later pack report (agent.packs) with web-01's bytes is shared with web-01's copy again.
    simB.send('agent.packs', { packs: [pack(manifest)] });
    await waitFor(() => viewManifest('web-02') === shared);
    simA.close();
    simB.close();
  });

  it('agents attesting differently keep their own attestations', async () => {
    const [a, b] = [await hub.enroll('db-01'), await hub.enroll('db-02')];
    const simA = await SimAgent.online(hub, a, { attestation: attestation({ kernel: '6.1.0-13-amd64' }) });
    const simB = await SimAgent.online(hub, b, { attestation: attestation({ kernel: '6.12.0-1-amd64' }) });
    const [recordA, recordB] = [(await hub.store.agents.getById(a.id))!, (await hub.store.agents.getById(b.id))!];
    expect(recordA.attestationBaseline?.kernel).toBe('6.1.0-13-amd64');
    expect(recordB.attestationBaseline?.kernel).toBe('6.12.0-1-amd64');
    expect(hub.gateway.fleet.get('db-02')?.status).toBe('online');
    simA.close();
    simB.close();
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
