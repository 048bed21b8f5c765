import t from 'tap';
import fc from 'fast-check';
import { arcRanges, arcs, buildRing, preferenceList, fallbacks, ownershipShares, walk, ringPosition, RING_SPACE } from './ring.js';

const names = (count: number, prefix = 'node') => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);

t.test('the same member set gives the same ring, whatever the order', async (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 12 }),
      fc.array(fc.string(), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 5 }),
      (members, keys, n) => {
        const a = buildRing(members, 32);
        const b = buildRing([...members].reverse(), 32);
        const c = buildRing([...members, members[0]!], 32);
        return keys.every((key) => {
          const pa = preferenceList(a, key, n).join();
          return pa === preferenceList(b, key, n).join() && pa === preferenceList(c, key, n).join();
        });
      },
    ),
    { numRuns: 200 },
  );
  t.pass('200 random member sets');
});

t.test('preference lists hold n distinct nodes, then fallbacks continue the walk', async (t) => {
  const ring = buildRing(names(5), 64);
  for (let i = 0; i < 200; i++) {
    const key = `key-${i}`;
    const list = preferenceList(ring, key, 3);
    t.equal(new Set(list).size, 3);
    const rest = fallbacks(ring, key, 3);
    t.equal(rest.length, 2);
    t.same([...list, ...rest].sort(), names(5).sort(), 'every node appears exactly once on the walk');
    t.same(walk(ring, key).slice(0, 3), list);
  }
  t.same(preferenceList(buildRing(['only'], 8), 'k', 3), ['only'], 'a ring smaller than n gives every node');
  t.same(preferenceList(buildRing([], 8), 'k', 3), []);
});

t.test('a key belongs to the first token clockwise of its position', async (t) => {
  const ring = buildRing(names(3), 16);
  for (let i = 0; i < 100; i++) {
    const key = `k${i}`;
    const position = ringPosition(key);
    let index = ring.positions.findIndex((p) => p >= position);
    if (index === -1) index = 0;
    t.equal(preferenceList(ring, key, 1)[0], ring.nodes[ring.owners[index]!]);
  }
});

t.test('ownership for 8 nodes and key movement when a 9th joins', async (t) => {
  const eight = buildRing(names(8));
  const shares = [...ownershipShares(eight).values()];
  const total = shares.reduce((a, b) => a + b, 0);
  t.ok(Math.abs(total - 1) < 1e-9, 'shares sum to 1');
  const mean = total / shares.length;
  const maxOverMean = Math.max(...shares) / mean;
  t.comment(`8 nodes x 256 tokens: max/mean ownership = ${maxOverMean.toFixed(3)}`);
  t.ok(maxOverMean < 1.15, `max/mean ownership ${maxOverMean.toFixed(3)} < 1.15`);

  const nine = buildRing(names(9));
  const keys = Array.from({ length: 50_000 }, (_, i) => `user:${i}`);
  let moved = 0;
  let movedToNewcomer = 0;
  for (const key of keys) {
    const before = preferenceList(eight, key, 1)[0];
    const after = preferenceList(nine, key, 1)[0];
    if (before !== after) {
      moved++;
      if (after === 'node9') movedToNewcomer++;
    }
  }
  const share = moved / keys.length;
  t.comment(`9th node joins: ${(share * 100).toFixed(2)} % of keys move (ideal ${(100 / 9).toFixed(2)} %), ${movedToNewcomer === moved ? 'all' : movedToNewcomer} to the newcomer`);
  t.equal(movedToNewcomer, moved, 'keys only move to the newcomer');
  t.ok(Math.abs(share - 1 / 9) < 0.02, `moved share ${share.toFixed(4)} within 2 points of 1/9`);
});

t.test('positions are 48-bit integers', async (t) => {
  for (const s of ['', 'a', 'node1#0', '✓']) {
    const p = ringPosition(s);
    t.ok(Number.isInteger(p) && p >= 0 && p < RING_SPACE);
  }
});

t.test('arcs: every key falls in exactly one arc, whose owners are its preference list', async (t) => {
  const ring = buildRing(['a', 'b', 'c', 'd', 'e'], 32);
  const list = arcs(ring, 3);
  t.equal(list[0]!.start, 0, 'the first arc starts at position 0');
  t.equal(list.at(-1)!.end, RING_SPACE, 'the last arc ends at the top of the ring');
  for (let i = 1; i < list.length; i++) t.equal(list[i]!.start, list[i - 1]!.end, `arc ${i} starts where arc ${i - 1} ends`);
  for (let i = 0; i < 2_000; i++) {
    const key = `key-${i}`;
    const position = ringPosition(key);
    const containing = list.filter((arc) => arc.start <= position && position < arc.end);
    if (containing.length !== 1) t.fail(`${key} is in ${containing.length} arcs`);
    else if (containing[0]!.owners.join() !== preferenceList(ring, key, 3).join()) t.fail(`${key}: arc owners differ from its preference list`);
  }
  t.equal(arcs(buildRing([]), 3).length, 0, 'an empty ring has no arcs');
});

t.test('arcRanges joins adjacent kept arcs and covers exactly the kept positions', async (t) => {
  const ring = buildRing(['a', 'b', 'c', 'd'], 16);
  t.same(arcRanges(ring, 4, () => true), [{ start: 0, end: RING_SPACE }], 'everything kept: one range');
  const ranges = arcRanges(ring, 3, (owners) => !owners.includes('a'));
  for (let i = 1; i < ranges.length; i++) t.ok(ranges[i]!.start > ranges[i - 1]!.end, 'kept ranges are joined, so none touches the next');
  for (let i = 0; i < 500; i++) {
    const key = `k${i}`;
    const position = ringPosition(key);
    const inside = ranges.some((r) => r.start <= position && position < r.end);
    if (inside !== !preferenceList(ring, key, 3).includes('a')) t.fail(`${key}: in a range iff a does not own it`);
  }
});
