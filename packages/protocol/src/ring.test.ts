import t from 'tap';
import fc from 'fast-check';
import { arcRanges, arcs, buildRing, preferenceList, fallbacks, ownershipShares, replicaShares, walk, ringPosition, RING_SPACE } from './ring.js';

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

// ---- Zones -------------------------------------------------------------------------------

/** `count` members spread over zones of the given sizes: z0 gets the first sizes[0], and so on. */
function zoned(sizes: readonly number[], prefix = 'node'): Array<{ id: string; zone: string }> {
  const members: Array<{ id: string; zone: string }> = [];
  sizes.forEach((size, z) => {
    for (let i = 0; i < size; i++) members.push({ id: `${prefix}${members.length + 1}`, zone: `zone-${z}` });
  });
  return members;
}

/**
 * The zone-rank order by its definition, from the whole plain walk: every distinct node met
 * clockwise from `start`, stably sorted by how many nodes of its zone came before it.
 */
function referenceOrder(ring: ReturnType<typeof buildRing>, key: string): string[] {
  const position = ringPosition(key);
  let start = ring.positions.findIndex((p) => p >= position);
  if (start === -1) start = 0;
  const met: string[] = [];
  for (let step = 0; step < ring.positions.length; step++) {
    const id = ring.nodes[ring.owners[(start + step) % ring.positions.length]!]!;
    if (!met.includes(id)) met.push(id);
  }
  const zoneOf = new Map(ring.nodes.map((id, i) => [id, ring.zones[i]!]));
  const seen = new Map<string, number>();
  const ranked = met.map((id, index) => {
    const rank = seen.get(zoneOf.get(id)!) ?? 0;
    seen.set(zoneOf.get(id)!, rank + 1);
    return { id, rank, index };
  });
  return ranked.sort((a, b) => a.rank - b.rank || a.index - b.index).map((x) => x.id);
}

const memberSets = fc
  .uniqueArray(fc.record({ id: fc.stringMatching(/^[a-z0-9]{1,6}$/), zone: fc.constantFrom('', 'a', 'b', 'c', 'd') }), { minLength: 1, maxLength: 10, selector: (m) => m.id });

t.test('zones: preference lists and fallbacks follow the zone-rank order (checked against its definition)', async (t) => {
  fc.assert(
    fc.property(memberSets, fc.array(fc.string(), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 6 }), (members, keys, n) => {
      const ring = buildRing(members, 8);
      return keys.every((key) => {
        const order = referenceOrder(ring, key);
        const zones = new Set(members.map((m) => m.zone)).size;
        const expected = zones > 1 ? order : walk(ring, key);
        return (
          walk(ring, key).join() === expected.join() &&
          preferenceList(ring, key, n).join() === expected.slice(0, n).join() &&
          fallbacks(ring, key, n).join() === expected.slice(n).join()
        );
      });
    }),
    { numRuns: 300 },
  );
  t.pass('300 random zoned member sets');
});

t.test('zones: a preference list spans min(n, zones) distinct zones, and no zone holds more than its turn', async (t) => {
  fc.assert(
    fc.property(memberSets, fc.array(fc.string(), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 6 }), (members, keys, n) => {
      const ring = buildRing(members, 8);
      const zoneOf = new Map(members.map((m) => [m.id, m.zone]));
      const sizes = new Map<string, number>();
      for (const m of members) sizes.set(m.zone, (sizes.get(m.zone) ?? 0) + 1);
      return keys.every((key) => {
        const list = preferenceList(ring, key, n);
        const counts = new Map<string, number>();
        for (const id of list) counts.set(zoneOf.get(id)!, (counts.get(zoneOf.get(id)!) ?? 0) + 1);
        if (new Set(list).size !== Math.min(n, members.length) || counts.size !== Math.min(n, sizes.size)) return false;
        // Round-robin: a zone holds a second replica only when every zone that still had a
        // node to give holds at least one, and so on.
        const most = Math.max(...counts.values());
        return [...sizes].every(([zone, size]) => (counts.get(zone) ?? 0) >= Math.min(size, most - 1));
      });
    }),
    { numRuns: 300 },
  );
  t.pass('300 random zoned member sets');
});

t.test('zones: the same members (ids and zones) give the same ring, whatever the order', async (t) => {
  fc.assert(
    fc.property(memberSets, fc.array(fc.string(), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (members, keys, n, seed) => {
      const shuffled = members.map((m, i) => ({ m, order: Math.sin(seed + i) })).sort((a, b) => a.order - b.order).map((x) => x.m);
      const a = buildRing(members, 16);
      const b = buildRing(shuffled, 16);
      const c = buildRing([...shuffled, members[0]!], 16);
      return keys.every((key) => {
        const pa = preferenceList(a, key, n).join();
        return pa === preferenceList(b, key, n).join() && pa === preferenceList(c, key, n).join() && arcs(a, n).length === arcs(b, n).length;
      });
    }),
    { numRuns: 200 },
  );
  t.pass('200 random zoned member sets, shuffled and with a duplicate');
});

t.test('zones: one zone for everyone (or none) is exactly the ring without zones', async (t) => {
  const plain = buildRing(names(7));
  const oneZone = buildRing(names(7).map((id) => ({ id, zone: 'eu-1' })));
  const noZone = buildRing(names(7).map((id) => ({ id })));
  t.same([...oneZone.positions], [...plain.positions], 'same tokens');
  t.equal(oneZone.tokensPlaced, plain.tokensPerNode, 'no extra tokens');
  for (let i = 0; i < 2_000; i++) {
    const key = `k${i}`;
    if (walk(oneZone, key).join() !== walk(plain, key).join() || walk(noZone, key).join() !== walk(plain, key).join()) t.fail(`${key}: the walk changed`);
  }
  t.equal(arcs(oneZone, 3).length, arcs(plain, 3).length);
});

t.test('zones: arcs carry the zone-aware owners of every key in them', async (t) => {
  const ring = buildRing(zoned([2, 2, 2]), 16);
  const list = arcs(ring, 3);
  for (let i = 0; i < 2_000; i++) {
    const key = `key-${i}`;
    const position = ringPosition(key);
    const arc = list.find((a) => a.start <= position && position < a.end);
    if (arc?.owners.join() !== preferenceList(ring, key, 3).join()) t.fail(`${key}: arc owners differ from its preference list`);
  }
  const ranges = arcRanges(ring, 3, (owners) => !owners.includes('node1'));
  for (let i = 0; i < 1_000; i++) {
    const position = ringPosition(`r${i}`);
    const inside = ranges.some((r) => r.start <= position && position < r.end);
    if (inside === preferenceList(ring, `r${i}`, 3).includes('node1')) t.fail(`r${i}: in a not-owned range iff node1 does not own it`);
  }
  t.pass('2,000 keys against arcs, 1,000 against arcRanges');
});

t.test('zones: a node joining a zone takes keys only from its own zone (n = zones)', async (t) => {
  const before = buildRing(zoned([2, 2, 2]));
  const after = buildRing([...zoned([2, 2, 2]), { id: 'node7', zone: 'zone-0' }]);
  let moved = 0;
  for (let i = 0; i < 20_000; i++) {
    const key = `user:${i}`;
    const a = preferenceList(before, key, 3);
    const b = preferenceList(after, key, 3);
    if (a.join() === b.join()) continue;
    moved++;
    const gone = a.filter((id) => !b.includes(id));
    const added = b.filter((id) => !a.includes(id));
    if (added.join() !== 'node7' || gone.length !== 1 || !['node1', 'node2'].includes(gone[0]!)) t.fail(`${key}: ${a} -> ${b}`);
  }
  t.comment(`node7 joins zone-0 (2 -> 3 nodes): ${((moved / 20_000) * 100).toFixed(1)} % of keys change one replica (ideal ${(100 / 3).toFixed(1)} %)`);
  t.ok(Math.abs(moved / 20_000 - 1 / 3) < 0.04, 'about a third of the keys move, each from a zone-0 node to the newcomer');
});

/** max/mean of the replica shares of a ring (n = 3). */
function replicaSpread(ring: ReturnType<typeof buildRing>): { max: number; min: number } {
  const shares = [...replicaShares(ring, 3).values()];
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  return { max: Math.max(...shares) / mean, min: Math.min(...shares) / mean };
}

t.test('zones: replica balance within 10 % of the mean for balanced zones (N = 3, default tokens)', async (t) => {
  for (const [label, sizes] of [['6 nodes in 3 zones', [2, 2, 2]], ['9 in 3', [3, 3, 3]], ['12 in 3', [4, 4, 4]], ['6 in 2', [3, 3]], ['4 in 2', [2, 2]]] as const) {
    for (const prefix of ['node', 'host-', 'r']) {
      const ring = buildRing(zoned(sizes, prefix));
      const shares = [...replicaShares(ring, 3).values()];
      t.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 3) < 1e-9, 'replica shares sum to n');
      const { max, min } = replicaSpread(ring);
      t.comment(`${label} (${prefix}…): replica share max/mean ${max.toFixed(3)}, min/mean ${min.toFixed(3)}`);
      t.ok(max < 1.1 && min > 0.9, `${label} (${prefix}…): within 10 % of the mean`);
    }
  }
});

t.test('zones: uneven zones load their small zones (measured, and the structural rule)', async (t) => {
  const fiveInTwo = replicaSpread(buildRing(zoned([3, 2])));
  t.comment(`5 nodes in zones of 3 and 2: max/mean ${fiveInTwo.max.toFixed(3)}, min/mean ${fiveInTwo.min.toFixed(3)}`);
  t.ok(fiveInTwo.max < 1.15, 'zones of 3 and 2 stay within 15 %');
  const uneven = buildRing(zoned([4, 1, 1]));
  const shares = replicaShares(uneven, 3);
  t.comment(`zones of 4, 1, 1: ${[...shares].map(([id, s]) => `${id} ${s.toFixed(3)}`).join(', ')}`);
  t.ok(Math.abs(shares.get('node5')! - 1) < 1e-9 && Math.abs(shares.get('node6')! - 1) < 1e-9, 'a zone of one node holds a replica of every key (one replica per zone)');
});
