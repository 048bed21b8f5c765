import t from 'tap';
import fc from 'fast-check';
import { update, merge, contextOf, isDeleted, sameObject, assertWellFormed, type VersionedObject, type WriteOp } from './versioned.js';
import type { VersionVector } from './clock.js';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (v: Uint8Array) => new TextDecoder().decode(v);
const none: VersionVector = [];

function put(obj: VersionedObject | undefined, value: string, context: VersionVector, coordinatorId = 'a', nowMs = 0): VersionedObject {
  const op: WriteOp = { coordinatorId, context, deleted: false, value: bytes(value), contentType: 'text/plain', nowMs };
  const out = update(obj, op, limits);
  assertWellFormed(out);
  return out;
}
function del(obj: VersionedObject | undefined, context: VersionVector, coordinatorId = 'a'): VersionedObject {
  return update(obj, { coordinatorId, context, deleted: true, value: new Uint8Array(), contentType: '', nowMs: 0 }, limits);
}
const values = (o: VersionedObject) => o.siblings.map((s) => (s.deleted ? '<deleted>' : text(s.value))).sort();

t.test('two writers without context become siblings; the merged context collapses them', async (t) => {
  let o = put(undefined, 'x', none);
  o = put(o, 'y', none);
  t.same(values(o), ['x', 'y']);
  o = put(o, 'z', contextOf(o));
  t.same(values(o), ['z']);
});

t.test('a write with the context it read supersedes exactly what it read', async (t) => {
  let o = put(undefined, 'v1', none);
  const ctx = contextOf(o);
  o = put(o, 'v2', none); // a concurrent blind write the reader did not see
  o = put(o, 'v3', ctx);
  t.same(values(o), ['v2', 'v3'], 'v1 replaced, v2 kept as a sibling');
});

t.test('a stale context never overwrites a newer value it did not see', async (t) => {
  let o = put(undefined, 'v1', none);
  const stale = contextOf(o);
  o = put(o, 'v2', contextOf(o));
  t.same(values(o), ['v2']);
  o = put(o, 'late', stale);
  t.same(values(o), ['late', 'v2']);
});

t.test('a write through another coordinator behaves the same', async (t) => {
  let o = put(undefined, 'x', none, 'a');
  o = put(o, 'y', none, 'b');
  t.same(values(o), ['x', 'y']);
  o = put(o, 'z', contextOf(o), 'c');
  t.same(values(o), ['z']);
  t.same(o.clock.map((e) => e.id), ['a', 'b', 'c']);
});

t.test('delete with context leaves only a tombstone; a put with its context revives cleanly', async (t) => {
  let o = put(undefined, 'x', none);
  o = del(o, contextOf(o));
  t.ok(isDeleted(o));
  t.same(values(o), ['<deleted>']);
  o = put(o, 'back', contextOf(o));
  t.same(values(o), ['back']);
  t.notOk(isDeleted(o));
});

t.test('a concurrent put and delete keep the tombstone as a sibling', async (t) => {
  let o = put(undefined, 'x', none);
  const ctx = contextOf(o);
  o = put(o, 'y', ctx);
  o = del(o, ctx);
  t.same(values(o), ['<deleted>', 'y']);
  t.notOk(isDeleted(o));
});

t.test('read-modify-write loops never grow siblings past the concurrent writers', async (t) => {
  // 20 writers each read, then write back with what they read, interleaved in rounds: in a
  // round every writer reads before any writes, so 20 are truly concurrent.
  let o: VersionedObject | undefined;
  let peak = 0;
  for (let round = 0; round < 50; round++) {
    const contexts = Array.from({ length: 20 }, () => (o ? contextOf(o) : none));
    for (let w = 0; w < 20; w++) {
      o = put(o, `r${round}w${w}`, contexts[w]!);
      peak = Math.max(peak, o.siblings.length);
    }
    t.equal(o!.siblings.length, 20, `round ${round}: one sibling per concurrent writer`);
  }
  t.equal(peak, 20, 'never more than the 20 concurrent writers');
});

t.test('the sibling bound is a coded error, not growth', async (t) => {
  let o: VersionedObject | undefined;
  const small = { siblingsMax: 3, clockEntriesMax: 8 };
  for (let i = 0; i < 3; i++) o = update(o, { coordinatorId: 'a', context: none, deleted: false, value: bytes(`${i}`), contentType: '', nowMs: 0 }, small);
  t.throws(
    () => update(o, { coordinatorId: 'a', context: none, deleted: false, value: bytes('4'), contentType: '', nowMs: 0 }, small),
    { code: 'KV_ERR_TOO_MANY_SIBLINGS' },
  );
  const resolved = update(o, { coordinatorId: 'a', context: contextOf(o!), deleted: false, value: bytes('ok'), contentType: '', nowMs: 0 }, small);
  t.equal(resolved.siblings.length, 1, 'writing with the context resolves the key');
});

t.test('clock pruning keeps entries of live siblings and drops the least recent others', async (t) => {
  const small = { siblingsMax: 2, clockEntriesMax: 3, clockPruneAgeMs: 0 };
  let o: VersionedObject | undefined;
  for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) {
    o = update(o, { coordinatorId: id, context: o ? contextOf(o) : none, deleted: false, value: bytes(id), contentType: '', nowMs: 1000 + i }, small);
  }
  t.same(o!.clock.map((e) => e.id), ['c', 'd', 'e'], 'oldest entries a, b dropped');
  t.same(values(o!), ['e']);
  // Young entries survive up to the hard bound; past it the least recent go whatever their age.
  const aged = { siblingsMax: 2, clockEntriesMax: 2, clockEntriesHardMax: 4, clockPruneAgeMs: 10_000 };
  let y: VersionedObject | undefined;
  for (const [i, id] of ['a', 'b', 'c', 'd', 'e', 'f'].entries()) {
    y = update(y, { coordinatorId: id, context: y ? contextOf(y) : none, deleted: false, value: bytes(id), contentType: '', nowMs: 1000 + i }, aged);
  }
  t.same(y!.clock.map((e) => e.id), ['c', 'd', 'e', 'f'], 'young entries kept up to the hard bound of 4');
  // A coordinator whose entry was pruned never reissues an old dot: its counter starts at nowMs.
  const again = update(o, { coordinatorId: 'a', context: contextOf(o!), deleted: false, value: bytes('a2'), contentType: '', nowMs: 5000 }, small);
  t.ok(again.siblings[0]!.dot.counter >= 5000);
});

// ---- Property tests: merge is a join (commutative, associative, idempotent) on reachable
// states, produced by replaying random histories of writes and replica syncs.

interface Step { replica: number; kind: 'put' | 'del' | 'sync'; from: number; useContext: boolean }
const stepArb = fc.record({
  replica: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom('put', 'put', 'del', 'sync') as fc.Arbitrary<Step['kind']>,
  from: fc.integer({ min: 0, max: 2 }),
  useContext: fc.boolean(),
});

function replay(steps: Step[]): VersionedObject[] {
  const replicas: VersionedObject[] = [{ clock: [], siblings: [] }, { clock: [], siblings: [] }, { clock: [], siblings: [] }];
  steps.forEach((step, i) => {
    const here = replicas[step.replica]!;
    if (step.kind === 'sync') {
      replicas[step.replica] = merge(here, replicas[step.from]!, limits);
      return;
    }
    const ctx = step.useContext ? contextOf(replicas[step.from]!) : none;
    replicas[step.replica] = update(here, {
      coordinatorId: `n${step.replica}`, context: ctx, deleted: step.kind === 'del',
      value: bytes(`w${i}`), contentType: 'text/plain', nowMs: i,
    }, { siblingsMax: 1000, clockEntriesMax: 64 });
  });
  return replicas;
}

t.test('merge is commutative, associative and idempotent on reachable states', async (t) => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 40 }), ([...steps]) => {
      const [a, b, c] = replay(steps) as [VersionedObject, VersionedObject, VersionedObject];
      const eq = sameObject;
      return (
        eq(merge(a, b, limits), merge(b, a, limits)) &&
        eq(merge(merge(a, b, limits), c, limits), merge(a, merge(b, c, limits), limits)) &&
        eq(merge(a, a, limits), a)
      );
    }),
    { numRuns: 500 },
  );
  t.pass('500 random histories');
});

t.test('merging replicas never loses a sibling that neither side superseded', async (t) => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
      const [a, b] = replay(steps) as [VersionedObject, VersionedObject];
      const m = merge(a, b, limits);
      assertWellFormed(m);
      const survives = (s: VersionedObject['siblings'][number], other: VersionedObject) =>
        other.siblings.some((x) => x.dot.id === s.dot.id && x.dot.counter === s.dot.counter) ||
        (other.clock.find((e) => e.id === s.dot.id)?.counter ?? 0) < s.dot.counter;
      return a.siblings.filter((s) => survives(s, b)).every((s) => m.siblings.some((x) => x.dot.id === s.dot.id && x.dot.counter === s.dot.counter));
    }),
    { numRuns: 500 },
  );
  t.pass('500 random histories');
});

t.test('issue 19.9: blind TTL writes do not pile expired siblings up to the bound', async (t) => {
  const limits = { siblingsMax: 4, clockEntriesMax: 8 };
  let object: VersionedObject | undefined;
  for (let i = 0; i < 100; i++) {
    object = update(object, { coordinatorId: `c${i % 3}`, context: [], deleted: false, value: new Uint8Array([i]), contentType: '', nowMs: 1_000 + i * 20, ttlMs: 10 }, limits);
  }
  t.equal(object!.siblings.length, 1, 'only the live write is kept: every earlier one had expired');
  const live = update(object, { coordinatorId: 'c0', context: [], deleted: false, value: new Uint8Array([7]), contentType: '', nowMs: 1_000 + 99 * 20 + 5 }, limits);
  t.equal(live.siblings.length, 2, 'a sibling not yet expired stays');
});
