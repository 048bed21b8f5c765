// The no-resurrection rule (core/no-resurrection.ts): the reaper's cutoff and the copy rule
// agree on the instant "past the grace" begins, and a dead-past-grace object is copied only to
// a replica that holds the key.
import t from 'tap';
import { contextOf, update } from './versioned.js';
import { deadPastGrace, graceCutoffMs, mayCopyTo } from './no-resurrection.js';
import { MemoryStore } from '../storage/memory-store.js';

const limits = { siblingsMax: 8, clockEntriesMax: 8 };
const live = update(undefined, { coordinatorId: 'n1', context: [], deleted: false, value: Buffer.from('v'), contentType: 'text/plain', nowMs: 1_000 }, limits);
const tombstone = update(live, { coordinatorId: 'n1', context: contextOf(live), deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 2_000 }, limits);
const GRACE_MS = 100;

t.test('mayCopyTo: a dead-past-grace object goes only to a replica that holds the key', async (t) => {
  const rows: Array<[string, Parameters<typeof mayCopyTo>[0], boolean, number, number | undefined, boolean]> = [
    ['live, empty replica', live, false, 9_999_999, GRACE_MS, true],
    ['dead within the grace, empty replica', tombstone, false, 2_000 + GRACE_MS, GRACE_MS, true],
    ['dead past the grace, empty replica', tombstone, false, 2_000 + GRACE_MS + 1, GRACE_MS, false],
    ['dead past the grace, replica holds the key', tombstone, true, 2_000 + GRACE_MS + 1, GRACE_MS, true],
    ['no grace configured (nothing reaps)', tombstone, false, 9_999_999, undefined, true],
    ['nothing to copy', undefined, false, 9_999_999, GRACE_MS, true],
  ];
  for (const [name, object, holds, nowMs, graceMs, expected] of rows) t.equal(mayCopyTo(object, holds, nowMs, graceMs), expected, name);
});

t.test('the reaper sees a row as reapable exactly when it may no longer be copied to an empty replica', async (t) => {
  // A store whose clock is the tombstone's own, so its dead-since time is the object's.
  const store = new MemoryStore({ nowMs: () => 2_000 });
  await store.put('k', tombstone);
  for (const nowMs of [2_000 + GRACE_MS - 1, 2_000 + GRACE_MS, 2_000 + GRACE_MS + 1, 2_000 + GRACE_MS + 2]) {
    const reapable = store.deadBefore(graceCutoffMs(nowMs, GRACE_MS), 10).length === 1;
    t.equal(reapable, deadPastGrace(tombstone, nowMs, GRACE_MS), `at ${nowMs}`);
    t.equal(reapable, !mayCopyTo(tombstone, false, nowMs, GRACE_MS), `at ${nowMs}`);
  }
});
