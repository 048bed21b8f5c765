// The data-type step of mergeChange (dt-merge.ts): replicas that receive the same data-type
// versions in any order, through any chain of merges, end with one sibling holding the join of
// every version, under the same dot; a merge is commutative; tombstones and other kinds are
// left as siblings.
import t from 'tap';
import fc from 'fast-check';
import { applyOperation, DATA_TYPE_CONTENT_TYPE, decodeDataType, defaultDataTypeLimits, encodeDataType, join, valueOf, type DataType } from '@ringkv/protocol';
import { contextOf, mergeChange, sameObject, update, type VersionedObject } from './versioned.js';
import { JOIN_ACTOR_PREFIX, joinDataTypeSiblings } from './dt-merge.js';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };

/** A data-type version written blind by `coordinatorId`: `state` encoded. */
function version(state: DataType, coordinatorId: string, nowMs: number): VersionedObject {
  return update(undefined, { coordinatorId, context: [], deleted: false, value: encodeDataType(state, defaultDataTypeLimits), contentType: DATA_TYPE_CONTENT_TYPE, nowMs }, limits);
}

/** Merges `incoming` into `current` as Store.merge does. */
function stored(current: VersionedObject | undefined, incoming: VersionedObject): VersionedObject {
  return mergeChange(current, incoming, limits) ?? current!;
}

const valueHeld = (object: VersionedObject) => valueOf(decodeDataType(object.siblings[0]!.value, defaultDataTypeLimits));

t.test('any delivery order and any chain of replica merges ends in one joined sibling under one dot', async (t) => {
  const writes = fc.array(fc.record({ actor: fc.constantFrom('p', 'q', 'r'), by: fc.integer({ min: 1, max: 9 }) }), { minLength: 2, maxLength: 8 });
  fc.assert(
    fc.property(writes, fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), (ws, shuffle) => {
      // Each write extends its actor's own chain (the dt-actors rule), on what that actor saw last.
      const last = new Map<string, DataType>();
      const versions = ws.map((w, i) => {
        const state = applyOperation(last.get(w.actor), { kind: 'counter', increment: w.by }, { actor: w.actor, counter: (last.get(w.actor)?.context.vv.get(w.actor) ?? 0) + 1 }, 1_000 + i, defaultDataTypeLimits);
        last.set(w.actor, state);
        // Each version under its own coordinator actor, as core/actor.ts gives a write that holds no copy.
        return version(state, `node-${i}`, 1_000 + i);
      });
      const expected = valueOf([...last.values()].reduce((a, b) => join(a, b)));
      // Three replicas get the versions in different orders, then exchange what they hold.
      const orders = [0, 1, 2].map((r) => [...versions].sort((a, b) => ((versions.indexOf(a) * 7 + shuffle[r]!) % 11) - ((versions.indexOf(b) * 7 + shuffle[r]!) % 11)));
      const replicas = orders.map((order) => order.reduce<VersionedObject | undefined>((held, v) => stored(held, v), undefined)!);
      for (const r of replicas) if (r.siblings.length !== 1 || valueHeld(r) !== expected) return false;
      const [a, b, c] = replicas as [VersionedObject, VersionedObject, VersionedObject];
      const ab = stored(stored(a, b), c);
      const ca = stored(stored(c, a), b);
      const bb = stored(b, stored(c, a));
      return [ab, ca, bb].every((x) => x.siblings.length === 1 && valueHeld(x) === expected) && sameObject(stored(ab, ca), stored(ca, ab)) && sameObject(stored(ab, ca), stored(bb, ab));
    }),
    { numRuns: 200 },
  );
});

t.test('the joined sibling has a dot of its own, covered by the clock, and a write with its context supersedes it', async (t) => {
  const p = applyOperation(undefined, { kind: 'set', add: ['x'], remove: [] }, { actor: 'p', counter: 1 }, 1, defaultDataTypeLimits);
  const q = applyOperation(undefined, { kind: 'set', add: ['y'], remove: [] }, { actor: 'q', counter: 1 }, 2, defaultDataTypeLimits);
  const joined = stored(version(p, 'node-a', 1), version(q, 'node-b', 2));
  const [sibling] = joined.siblings;
  t.ok(sibling!.dot.id.startsWith(JOIN_ACTOR_PREFIX), 'a join dot, not a write\'s');
  t.same(valueHeld(joined), ['x', 'y']);
  t.ok(joined.clock.some((e) => e.id === sibling!.dot.id), 'the clock covers it');
  const next = update(joined, { coordinatorId: 'node-c', context: contextOf(joined), deleted: false, value: new Uint8Array([1]), contentType: 'text/plain', nowMs: 3 }, limits);
  t.same(next.siblings.map((s) => s.dot.id), ['node-c'], 'a write that read it replaces it');
  // A replica that holds only p's version merges the join in and keeps the join, not p.
  t.same(stored(version(p, 'node-a', 1), joined).siblings.map((s) => s.dot.id), [sibling!.dot.id]);
});

t.test('tombstones are kept; a plain value, a TTL or an undecodable value leaves the siblings as they are', async (t) => {
  const p = version(applyOperation(undefined, { kind: 'counter', increment: 1 }, { actor: 'p', counter: 1 }, 1, defaultDataTypeLimits), 'node-a', 1);
  const q = version(applyOperation(undefined, { kind: 'counter', increment: 2 }, { actor: 'q', counter: 1 }, 2, defaultDataTypeLimits), 'node-b', 2);
  const tomb = update(undefined, { coordinatorId: 'node-c', context: [], deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 3 }, limits);
  const three = stored(stored(p, q), tomb);
  t.same(three.siblings.map((s) => s.deleted), [false, true], 'the join and the tombstone');
  const bad = update(undefined, { coordinatorId: 'node-d', context: [], deleted: false, value: new Uint8Array([0xff]), contentType: DATA_TYPE_CONTENT_TYPE, nowMs: 4 }, limits);
  t.equal(stored(p, bad).siblings.length, 2, 'an undecodable data type stays a sibling');
  const ttl = update(undefined, { coordinatorId: 'node-e', context: [], deleted: false, value: q.siblings[0]!.value, contentType: DATA_TYPE_CONTENT_TYPE, nowMs: 5, ttlMs: 1_000 }, limits);
  t.equal(stored(p, ttl).siblings.length, 2, 'a data type with a TTL stays a sibling');
  t.equal(joinDataTypeSiblings(p), p, 'one sibling: the object itself');
});
