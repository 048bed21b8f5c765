// costBounded: reuse for max(minAgeMs, cost × factor); a clock that moves back recomputes.
import t from 'tap';
import { costBounded } from './cost-bounded.js';

t.test('a cheap value is reused for minAgeMs, then recomputed', async (t) => {
  let now = 0;
  let computed = 0;
  const read = costBounded(() => ++computed, { nowMs: () => now, minAgeMs: 1_000, costFactor: 100, elapsedMs: () => 0 });
  t.equal(read(), 1);
  now = 999;
  t.equal(read(), 1, 'still cached just before minAgeMs');
  now = 1_000;
  t.equal(read(), 2, 'recomputed at minAgeMs');
});

t.test('a costly value is reused for cost × factor', async (t) => {
  let now = 0;
  let clock = 0;
  let computed = 0;
  // Each computation "takes" 50 ms on the cost clock: reuse for 5,000 ms.
  const read = costBounded(() => {
    clock += 50;
    return ++computed;
  }, { nowMs: () => now, minAgeMs: 1_000, costFactor: 100, elapsedMs: () => clock });
  t.equal(read(), 1);
  now = 4_999;
  t.equal(read(), 1, 'reused while younger than 100 × 50 ms');
  now = 5_000;
  t.equal(read(), 2);
  now = 4_000;
  t.equal(read(), 3, 'a clock that went back recomputes instead of trusting a future timestamp');
});

t.test('with minAgeMs 0 a cheap value is always fresh', async (t) => {
  let now = 0;
  let computed = 0;
  const read = costBounded(() => ++computed, { nowMs: () => now, minAgeMs: 0, costFactor: 100, elapsedMs: () => 0 });
  t.equal(read(), 1);
  t.equal(read(), 2, 'a zero-cost value is recomputed every time');
  now = 1;
  t.equal(read(), 3);
});
