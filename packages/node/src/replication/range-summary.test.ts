// summarizeSet (range-summary.ts): the summary of a set of ranges is the summary of their
// union, however the ranges are cut, and an empty set summarizes to zero keys.
import t from 'tap';
import { RING_SPACE } from '@ringkv/protocol';
import { update } from '../core/versioned.js';
import { MemoryStore } from '../storage/memory-store.js';
import { sameHash } from '../storage/digest-tree.js';
import { summarizeSet } from './range-summary.js';

const limits = { siblingsMax: 8, clockEntriesMax: 8 };

t.test('a set of ranges summarizes as their union, however it is cut', async (t) => {
  const store = new MemoryStore({ nowMs: Date.now });
  for (let i = 0; i < 200; i++) {
    await store.put(`key-${i}`, update(undefined, { coordinatorId: 'n1', context: [], deleted: false, value: Buffer.from(String(i)), contentType: 'text/plain', nowMs: 1_000 }, limits));
  }
  const summarize = (start: number, end: number) => store.summarize(start, end);
  const whole = summarizeSet(summarize, [{ start: 0, end: RING_SPACE }]);
  t.equal(whole.count, 200);
  const cuts = [0, RING_SPACE / 7, RING_SPACE / 3, RING_SPACE / 2 + 12345, RING_SPACE].map(Math.floor);
  const pieces = cuts.slice(1).map((end, i) => ({ start: cuts[i]!, end }));
  const cut = summarizeSet(summarize, pieces);
  t.equal(cut.count, 200);
  t.ok(sameHash(cut.hash, whole.hash), 'same hash');
  const half = summarizeSet(summarize, pieces.slice(0, 2));
  t.ok(half.count < 200 && !sameHash(half.hash, whole.hash), 'a part differs from the whole');
  const empty = summarizeSet(summarize, []);
  t.equal(empty.count, 0);
  t.ok(sameHash(empty.hash, new Uint8Array(16)));
});
