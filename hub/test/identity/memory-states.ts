import type { LoginStateRecord, LoginStateStore } from '../../src/identity/index.js';

/** Login states in a Map, for testing the flow on its own; the hub's store keeps them in SQLite. */
export function memoryLoginStates(): LoginStateStore & { size(): number } {
  const states = new Map<string, LoginStateRecord>();
  return {
    put(record) {
      states.set(record.stateHash, { ...record });
      return Promise.resolve();
    },
    take(stateHash, now) {
      const record = states.get(stateHash);
      if (!record) return Promise.resolve(undefined);
      const before = { ...record };
      record.usedAt ??= now;
      return Promise.resolve(before);
    },
    removeExpired(now) {
      let removed = 0;
      for (const [hash, record] of states) if (record.expiresAt <= now && states.delete(hash)) removed++;
      return Promise.resolve(removed);
    },
    size: () => states.size,
  };
}
