// The Store contract over both implementations: the in-memory twin and SQLite on a real file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { MemoryStore, SqliteStore } from '@ringkv/node';
import { storeContract } from './contract/store.contract.js';

storeContract(t, 'MemoryStore', () => new MemoryStore({ nowMs: Date.now }));

for (const synchronous of ['full', 'normal'] as const) {
  storeContract(t, `SqliteStore (synchronous=${synchronous})`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ringkv-store-contract-'));
    const store = new SqliteStore({ dir, nodeId: 'node-1', synchronous, integrityCheck: true, nowMs: () => Date.now() });
    t.teardown(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  });
}
