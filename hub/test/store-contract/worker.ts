/**
 * One racer of the store contract suite (race.ts starts it): opens its own
 * store on the database given, says "ready", waits for "go" on stdin, runs one
 * operation through the HubStore interface and prints its result as JSON.
 */
import { once } from 'node:events';
import { RevocationService } from '../../src/revocations/service.js';
import { openHubStore } from '../../src/store/open.js';
import type { HubStore } from '../../src/store/types.js';
import { contractAuditLog } from './fixtures.js';

type Op = (store: HubStore, args: Record<string, unknown>) => Promise<Record<string, unknown>>;

const ops: Record<string, Op> = {
  /** One enrollment token, consumed at once by every worker. */
  async consume(store, { hash, usedBy }) {
    const record = await store.enrollmentTokens.consume(String(hash), new Date().toISOString(), String(usedBy));
    return { won: record !== undefined };
  },

  /**
   * What enrollment does with a token bound to a name (hub/src/enrollment/enroll.ts), through the interface: consume the
   * token, find the agent by name, replace its credentials and revoke its agent keys (or create it), mint an agent key.
   */
  async enrollBound(store, { name, tokenHash, keyId, keyHash, serial }) {
    const agentId = await store.transaction(async (tx) => {
      const now = new Date().toISOString();
      const token = await tx.enrollmentTokens.consume(String(tokenHash), now, String(name));
      if (!token) throw new Error('token unusable');
      const existing = await tx.agents.getByName(String(name));
      if (existing && token.boundName !== name) throw new Error('name taken');
      const credentials = { certPem: `pem-${String(serial)}`, certSerial: String(serial), certNotAfter: now, publicKeyPem: 'pub' };
      let id: string;
      if (existing) {
        id = existing.id;
        if (existing.certSerial) await tx.revokedCerts.add(existing.certSerial, id, now, 're-enrolled');
        await tx.apiKeys.revokeForAgent(id, now);
        await tx.agents.replaceCredentials(id, credentials);
      } else {
        id = `agent-${String(keyId)}`;
        await tx.agents.create({ id, name: String(name), enrolledAt: now, ...credentials });
      }
      await tx.apiKeys.create({
        id: String(keyId),
        name: `agent:${String(name)}`,
        type: 'agent',
        role: 'member',
        hash: String(keyHash),
        prefix: 'sonde_ag',
        policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] },
        agentId: id,
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null,
      });
      return id;
    });
    return { agentId };
  },

  async rotate(store, { id, oldHash, newHash }) {
    return { won: await store.apiKeys.rotate(String(id), String(oldHash), String(newHash), String(newHash).slice(0, 8)) };
  },

  /** The hub's real revocation service: each call signs the next serial. */
  async revoke(store, { times, seed }) {
    const service = new RevocationService(Buffer.from(String(seed), 'hex'), store, contractAuditLog(store));
    const serials: number[] = [];
    for (let i = 0; i < Number(times); i++) {
      const list = await service.revoke(
        { packs: [{ pack: `p${process.pid}`, versions: `${i}.0.0` }] },
        { kind: 'system', id: null, name: 'race' },
      );
      serials.push(list.serial);
    }
    return { serials };
  },

  /** An approval based on what the worker read (no version approved yet), as IntegrationService.approve does. */
  async approve(store, { pack, version, by }) {
    const won = await store.transaction(async (tx) => {
      const applied = await tx.integrations.setApproved(String(pack), null, {
        version: String(version),
        digest: `sha256-${String(version)}`,
        at: new Date().toISOString(),
        by: String(by),
      });
      if (applied) await tx.integrations.setVersionState(String(pack), String(version), 'approved');
      return applied;
    });
    return { won };
  },

  /** The hub's real audit log (group commit): `bursts` bursts of `size` appends at once. */
  async audit(store, { bursts, size, tag }) {
    const log = contractAuditLog(store);
    const seqs: number[] = [];
    for (let b = 0; b < Number(bursts); b++) {
      const records = await Promise.all(
        Array.from({ length: Number(size) }, (_, i) =>
          log.append({
            action: 'contract.race',
            actor: { kind: 'system', id: null, name: String(tag) },
            status: 'ok',
            detail: `${b}.${i}`,
          }),
        ),
      );
      seqs.push(...records.map((record) => record.seq));
    }
    return { seqs };
  },
};

const [location, opName, argsJson] = process.argv.slice(2);
const op = ops[opName];
if (!location || !op) throw new Error(`usage: worker.ts <location> <${Object.keys(ops).join('|')}> <args json>`);
const store = await openHubStore(location);
process.stdout.write('ready\n');
let input = '';
process.stdin.on('data', (chunk: Buffer) => (input += chunk.toString()));
await once(process.stdin, 'end');
if (!input.startsWith('go')) throw new Error('expected go');
let result: Record<string, unknown>;
try {
  result = await op(store, JSON.parse(argsJson) as Record<string, unknown>);
} catch (error) {
  result = { error: error instanceof Error ? error.message : String(error) };
}
await store.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
