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

// Acceptor records survive a reopen of the SQLite file (what a restart after kill -9 sees).
t.test('SqliteStore: acceptor records and the ballot mark survive a reopen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-paxos-records-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const open = () => new SqliteStore({ dir, nodeId: 'node-1', synchronous: 'normal', integrityCheck: false, nowMs: () => Date.now() });
  const first = open();
  const record = { promised: { counter: 9, node: 'node-2' }, accepted: { ballot: { counter: 9, node: 'node-2' }, state: { value: { data: new Uint8Array([1, 2]), contentType: 'x/y' }, version: 1, recent: ['req'] } }, committed: undefined, layoutMin: 0 };
  await first.acceptorRecords.put('k', record);
  await first.acceptorRecords.putBallotMark(1_001);
  await first.close();
  const second = open();
  t.teardown(() => second.close());
  const bytesAsHex = (_k: string, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);
  t.same(JSON.parse(JSON.stringify(second.acceptorRecords.get('k'), bytesAsHex)), JSON.parse(JSON.stringify(record, bytesAsHex)));
  t.equal(second.acceptorRecords.ballotMark(), 1_001);
});
