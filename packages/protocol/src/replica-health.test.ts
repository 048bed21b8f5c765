import t from 'tap';
import { buildRing, preferenceList, ringPosition } from './ring.js';
import { replicaHealth } from './replica-health.js';

const ring = buildRing(['a', 'b', 'c', 'd', 'e'], 32);

t.test('every owner alive: the whole key space has all N replicas', async (t) => {
  const health = replicaHealth(ring, 3, () => true);
  t.equal(health.quorum, 2);
  t.ok(Math.abs(health.share.all - 1) < 1e-9, `share.all ${health.share.all}`);
  t.equal(health.share.quorum, 0);
  t.equal(health.share.fewer, 0);
  t.same(health.ranges, []);
});

t.test('one node dead: exactly the arcs it replicates drop to a quorum', async (t) => {
  const health = replicaHealth(ring, 3, (id) => id !== 'c', Infinity);
  t.ok(health.share.quorum > 0.4 && health.share.quorum < 0.8, `with 5 nodes and N=3, c holds about 3/5 of the keys: ${health.share.quorum}`);
  t.equal(health.share.fewer, 0, 'one dead node never takes an arc below a majority of 3');
  t.ok(Math.abs(health.share.all + health.share.quorum - 1) < 1e-9);
  t.ok(health.ranges.every((r) => r.owners.includes('c') && r.alive === 2));
  // A key in a listed range has c on its preference list; check against the ring directly.
  for (let i = 0; i < 500; i++) {
    const key = `k${i}`;
    const position = ringPosition(key);
    const listed = health.ranges.some((r) => position >= r.start && position < r.end);
    t.equal(listed, preferenceList(ring, key, 3).includes('c'), key);
  }
});

t.test('two of three owners dead: those arcs fall below a quorum and are listed first', async (t) => {
  const health = replicaHealth(ring, 3, (id) => id !== 'a' && id !== 'b');
  t.ok(health.share.fewer > 0, 'arcs owned by a and b together are below quorum');
  t.equal(health.ranges[0]!.alive, 1, 'fewest alive first');
  t.ok(Math.abs(health.share.all + health.share.quorum + health.share.fewer - 1) < 1e-9);
  const limited = replicaHealth(ring, 3, (id) => id !== 'a' && id !== 'b', 3);
  t.equal(limited.ranges.length, 3);
  t.equal(limited.truncated, true);
});

t.test('a ring smaller than N is never fully replicated; an empty ring has no share', async (t) => {
  const small = replicaHealth(buildRing(['a', 'b'], 16), 3, () => true);
  t.ok(Math.abs(small.share.quorum - 1) < 1e-9, 'two alive of three wanted is a quorum, not all');
  const empty = replicaHealth(buildRing([], 16), 3, () => true);
  t.same(empty.share, { all: 0, quorum: 0, fewer: 0 });
});
