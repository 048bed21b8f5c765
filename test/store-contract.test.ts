// The Store contract over both implementations: the in-memory twin and SQLite on a real file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { MemoryStore, SqliteStore, type Store } from '@ringkv/node';
import { update } from '@ringkv/node/testing';
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

// Request ids (issue 17.3, docs/idempotency.md): two attempts of one write merged into either
// store leave one sibling, survive a reopen with their id, and a stale attempt merged after
// writes nothing.
const idLimits = { siblingsMax: 64, clockEntriesMax: 64 };
const attempt = (actor: string, requestId: string, text: string) =>
  update(undefined, { coordinatorId: actor, context: [], deleted: false, value: new TextEncoder().encode(text), contentType: 'text/plain', nowMs: 1_000, requestId }, idLimits);

for (const [name, open] of [
  ['MemoryStore', () => ({ store: new MemoryStore({ nowMs: Date.now }), reopen: undefined })],
  ['SqliteStore', (t: Test) => {
    const dir = mkdtempSync(join(tmpdir(), 'ringkv-request-ids-'));
    const make = () => new SqliteStore({ dir, nodeId: 'node-1', synchronous: 'normal', integrityCheck: false, nowMs: () => Date.now() });
    const stores = [make()];
    t.teardown(async () => {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { store: stores[0]!, reopen: async () => { await stores[0]!.close(); stores.splice(0, 1); stores.push(make()); return stores[0]!; } };
  }],
] as const) {
  t.test(`${name}: two attempts of one write merge into one sibling, and a stale attempt writes nothing`, async (t) => {
    const { store, reopen } = (open as (t: Test) => { store: Store; reopen: (() => Promise<Store>) | undefined })(t);
    const first = attempt('node-a', 'req-1', 'v1');
    const retry = attempt('node-b', 'req-1', 'v1');
    await store.merge('k', retry, idLimits);
    await store.merge('k', first, idLimits);
    const held = store.get('k')!;
    t.same(held.siblings.map((s) => [s.dot.id, s.requestId]), [['node-a', 'req-1']], 'one sibling: the attempt with the smaller dot, with its id');
    t.same(held.clock.map((e) => e.id), ['node-a', 'node-b'], 'the clock covers both attempts');
    t.same(held.siblings[0]!.attempts, [retry.siblings[0]!.dot], 'and the one kept records the other');
    const writes = store.stats().writes;
    await store.merge('k', retry, idLimits);
    t.equal(store.stats().writes, writes, 'the other attempt again: nothing changes, nothing is written');
    await store.merge('k2', attempt('node-a', 'req-1', 'v1'), idLimits);
    await store.merge('k2', attempt('node-b', 'req-2', 'v1'), idLimits);
    t.equal(store.get('k2')!.siblings.length, 2, 'different ids: two writes, two siblings');
    if (reopen !== undefined) {
      const again = await reopen();
      t.same(again.get('k')!.siblings.map((s) => [s.dot.id, s.requestId, s.attempts]), [['node-a', 'req-1', [retry.siblings[0]!.dot]]], 'the id and the attempts survive a reopen');
    }
  });
}
