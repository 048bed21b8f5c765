// The G-counter's merge is a join (commutative, associative, idempotent), and under any
// interleaving of read-increment-write rounds by several writers the merge of what survives
// counts every increment: the property update()'s counter pattern relies on.
import t from 'tap';
import fc from 'fast-check';
import { gCounterTotal, incrementGCounter, mergeGCounters, type GCounter } from './counter.js';

const counter = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat({ max: 1_000 })) as fc.Arbitrary<GCounter>;
const same = (x: GCounter, y: GCounter) => JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());

t.test('merge is commutative, associative and idempotent', async (t) => {
  fc.assert(fc.property(counter, counter, (x, y) => same(mergeGCounters([x, y]), mergeGCounters([y, x]))));
  fc.assert(fc.property(counter, counter, counter, (x, y, z) => same(mergeGCounters([mergeGCounters([x, y]), z]), mergeGCounters([x, mergeGCounters([y, z])]))));
  fc.assert(fc.property(counter, (x) => same(mergeGCounters([x, x]), x)));
  t.pass('the laws hold');
});

t.test('racing writers that each see their own last write lose no increment', async (t) => {
  // A store of siblings: each round, some writers read the current siblings (merged), increment
  // their own entry, and write back; writes of one round race (each replaces only what it read).
  fc.assert(
    fc.property(fc.array(fc.subarray(['a', 'b', 'c', 'd'], { minLength: 1 }), { minLength: 1, maxLength: 30 }), (rounds) => {
      let siblings: GCounter[] = [];
      let acknowledged = 0;
      for (const writers of rounds) {
        const read = mergeGCounters(siblings);
        siblings = writers.map((writer) => incrementGCounter(read, writer));
        acknowledged += writers.length;
      }
      return gCounterTotal(mergeGCounters(siblings)) === acknowledged;
    }),
  );
  t.equal(gCounterTotal(undefined), 0);
  t.same(incrementGCounter(undefined, 'w', 3), { w: 3 });
});
