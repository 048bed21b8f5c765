// Request ids in the merge rule (core/request-ids.ts, docs/idempotency.md): two attempts of one
// write collapse wherever they meet, a superseded attempt does not bring the other back, the
// merge stays a join on histories with retries, and a retry is compared with its first attempt.
import t from 'tap';
import fc from 'fast-check';
import { update, merge, contextOf, sameObject, assertWellFormed, type VersionedObject } from './versioned.js';
import { appliedAttempt, ATTEMPTS_MAX } from './request-ids.js';
import { covers, type VersionVector } from './clock.js';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const none: VersionVector = [];
const bytes = (s: string) => new TextEncoder().encode(s);

function put(object: VersionedObject | undefined, value: string, context: VersionVector, actor: string, requestId?: string): VersionedObject {
  const out = update(object, { coordinatorId: actor, context, deleted: false, value: bytes(value), contentType: 'text/plain', nowMs: 0, ...(requestId === undefined ? {} : { requestId }) }, limits);
  assertWellFormed(out);
  return out;
}
const view = (o: VersionedObject) => o.siblings.map((s) => `${s.dot.id}:${s.dot.counter}=${new TextDecoder().decode(s.value)}${s.requestId ? `#${s.requestId}` : ''}`);
const same = (a: VersionedObject, b: VersionedObject) => sameObject(a, b);

t.test('two attempts of one write collapse into the one with the smaller dot, whichever side merges', async (t) => {
  const base = put(undefined, 'v0', none, 'z');
  const first = put(base, 'v1', contextOf(base), 'a', 'req-1'); // applied on one replica, answer lost
  const retry = put(base, 'v1', contextOf(base), 'b', 'req-1'); // the retry, through another coordinator
  const ab = merge(first, retry, limits);
  const ba = merge(retry, first, limits);
  t.same(view(ab), ['a:1=v1#req-1'], 'one sibling: the smaller dot (a:1 before b:1)');
  t.ok(same(ab, ba), 'the same on both sides');
  t.ok(ab.clock.some((e) => e.id === 'b' && e.counter === 1), 'the clock still covers the dropped attempt');
  t.same(ab.siblings[0]!.attempts, [{ id: 'b', counter: 1 }], 'the one kept records the collapsed attempt');
  t.ok(same(merge(ab, retry, limits), ab), 'a replica still holding the other attempt does not bring it back');
  assertWellFormed(ab);
});

t.test('without ids (or with different ids) the two writes stay siblings, as before', async (t) => {
  const base = put(undefined, 'v0', none, 'z');
  t.same(view(merge(put(base, 'v1', contextOf(base), 'a'), put(base, 'v1', contextOf(base), 'b'), limits)), ['a:1=v1', 'b:1=v1']);
  t.same(view(merge(put(base, 'v1', contextOf(base), 'a', 'req-1'), put(base, 'v1', contextOf(base), 'b', 'req-2'), limits)), ['a:1=v1#req-1', 'b:1=v1#req-2']);
  t.same(view(merge(put(base, 'v1', contextOf(base), 'a', 'req-1'), put(base, 'other', contextOf(base), 'b', 'req-1'), limits)), ['a:1=v1#req-1', 'b:1=other#req-1'], 'an id reused for another value: both kept, nothing lost');
});

for (const [first, second] of [['a', 'b'], ['b', 'a']] as const) {
  t.test(`an attempt superseded by a later write does not come back through the other attempt (first attempt's actor ${first}, retry's ${second})`, async (t) => {
    const base = put(undefined, 'v0', none, 'z');
    const s1 = put(base, 'v1', contextOf(base), first, 'req-1'); // R1 holds the first attempt
    const s2 = put(base, 'v1', contextOf(base), second, 'req-1'); // R2 holds the retry
    const w = put(s1, 'v2', contextOf(s1), first); // a reader of R1 replaced v1 with v2
    const both = merge(s1, s2, limits); // R3 saw both attempts: collapsed
    const orders: Array<[string, VersionedObject]> = [
      ['(W·S2)·R3', merge(merge(w, s2, limits), both, limits)],
      ['W·(S2·R3)', merge(w, merge(s2, both, limits), limits)],
      ['(W·R3)·S2', merge(merge(w, both, limits), s2, limits)],
      ['(S2·W)·S1', merge(merge(s2, w, limits), s1, limits)],
      ['(S2·W)·R3', merge(merge(s2, w, limits), both, limits)],
    ];
    for (const [name, object] of orders) t.same(view(object), [`${first}:2=v2`], `${name}: only v2`);
    // Until a copy of S1 (or R3's collapse) meets it, a replica holding W and S2 cannot know: the documented window.
    t.same(view(merge(s2, w, limits)).length, 2, 'a retry that met only replicas where its first attempt was forgotten is a sibling (docs/idempotency.md)');
  });
}

t.test('attempts are bounded: past ATTEMPTS_MAX the kept sibling never retires on a guess', async (t) => {
  const base = put(undefined, 'v0', none, 'z');
  let all = put(base, 'v1', contextOf(base), 'a', 'req-1');
  for (let i = 0; i < ATTEMPTS_MAX + 4; i++) all = merge(all, put(base, 'v1', contextOf(base), `r${String(i).padStart(2, '0')}`, 'req-1'), limits);
  t.equal(all.siblings.length, 1, 'one sibling for 21 attempts');
  t.equal(all.siblings[0]!.attempts!.length, ATTEMPTS_MAX, 'recording at most ATTEMPTS_MAX of them');
  const late = put(base, 'v1', contextOf(base), 'zz', 'req-1');
  const merged = merge(merge(all, late, limits), late, limits);
  t.same(view(merged), ['a:1=v1#req-1'], 'a further attempt still collapses');
});

t.test('appliedAttempt: the first attempt when the body matches, 422 when the id named another write', async (t) => {
  const stored = put(undefined, 'v1', none, 'a', 'req-1');
  const write = { deleted: false, value: bytes('v1'), contentType: 'text/plain' };
  t.equal(appliedAttempt(stored, { ...write, requestId: 'req-1' })?.dot.id, 'a');
  t.equal(appliedAttempt(stored, { ...write, requestId: 'req-2' }), undefined, 'another id: a new write');
  t.equal(appliedAttempt(stored, write), undefined, 'no id: a new write');
  t.equal(appliedAttempt(undefined, { ...write, requestId: 'req-1' }), undefined, 'nothing stored');
  t.throws(() => appliedAttempt(stored, { ...write, value: bytes('other'), requestId: 'req-1' }), { code: 'KV_ERR_REQUEST_ID_REUSED', status: 422 });
  t.throws(() => appliedAttempt(stored, { ...write, contentType: 'application/json', requestId: 'req-1' }), { code: 'KV_ERR_REQUEST_ID_REUSED' });
  t.throws(() => appliedAttempt(stored, { deleted: true, value: new Uint8Array(), contentType: '', requestId: 'req-1' }), { code: 'KV_ERR_REQUEST_ID_REUSED' });
});

// Random histories over 3 replicas: new writes (some with ids, with the replica's context or
// none), retries of earlier ids through any replica (skipped where the replica holds the id,
// as the coordinator does), and merges between replicas. Every state reached is kept; the merge
// must be a join on them and never leave two siblings with one id.
type Event = { kind: 'write'; at: number; withId: boolean; withContext: boolean } | { kind: 'retry'; at: number; pick: number } | { kind: 'merge'; from: number; to: number };
const event: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), at: fc.nat(2), withId: fc.boolean(), withContext: fc.boolean() }),
  fc.record({ kind: fc.constant('retry' as const), at: fc.nat(2), pick: fc.nat(20) }),
  fc.record({ kind: fc.constant('merge' as const), from: fc.nat(2), to: fc.nat(2) }),
);

/** What a history left: every state reached, the replicas at the end, the values written and those some write superseded. */
interface Run {
  readonly seen: VersionedObject[];
  readonly finals: VersionedObject[];
  readonly written: Set<string>;
  readonly superseded: Set<string>;
}

function run(events: readonly Event[]): Run {
  const replicas: VersionedObject[] = [{ clock: [], siblings: [] }, { clock: [], siblings: [] }, { clock: [], siblings: [] }];
  const writes: Array<{ id: string; value: string; context: VersionVector }> = [];
  const result: Run = { seen: [], finals: replicas, written: new Set(), superseded: new Set() };
  const write = (at: number, value: string, context: VersionVector, id: string | undefined) => {
    const before = replicas[at]!;
    replicas[at] = put(before, value, context, `actor${at}`, id);
    result.written.add(value);
    for (const gone of before.siblings) if (!replicas[at]!.siblings.some((s) => s.dot.id === gone.dot.id && s.dot.counter === gone.dot.counter)) result.superseded.add(new TextDecoder().decode(gone.value));
  };
  events.forEach((e, n) => {
    if (e.kind === 'merge') replicas[e.to] = merge(replicas[e.to]!, replicas[e.from]!, limits);
    else if (e.kind === 'write') {
      const context = e.withContext ? contextOf(replicas[e.at]!) : none;
      const id = e.withId ? `req-${n}` : undefined;
      if (id !== undefined) writes.push({ id, value: `v${n}`, context });
      write(e.at, `v${n}`, context, id);
    } else if (writes.length > 0) {
      const w = writes[e.pick % writes.length]!;
      const retry = { deleted: false, value: bytes(w.value), contentType: 'text/plain', requestId: w.id };
      if (appliedAttempt(replicas[e.at], retry) === undefined) write(e.at, w.value, w.context, w.id);
    }
    result.seen.push(replicas[e.kind === 'merge' ? e.to : e.at]!);
  });
  return result;
}

const noDuplicateIds = (o: VersionedObject) => {
  const ids = o.siblings.flatMap((s) => (s.requestId === undefined ? [] : [s.requestId]));
  return new Set(ids).size === ids.length;
};

/** Exchanges (both sides take the merge, as anti-entropy does) round-robin until all are equal, at most 20 rounds. */
function exchangeAll(states: VersionedObject[]): VersionedObject[] {
  const out = [...states];
  for (let round = 0; round < 20 && !out.every((o) => same(o, out[0]!)); round++) {
    for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) out[i] = out[j] = merge(out[i]!, out[j]!, limits);
    }
  }
  return out;
}

t.test('property: on histories with retries, merge is commutative and idempotent, holds no write twice, and replicas converge', async (t) => {
  let unequalOrders = 0;
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 30 }), fc.nat(), fc.nat(), fc.nat(), (events, i, j, k) => {
      const states = run(events).seen;
      const [a, b, c] = [states[i % states.length]!, states[j % states.length]!, states[k % states.length]!];
      const ab = merge(a, b, limits);
      assertWellFormed(ab);
      if (!same(merge(ab, c, limits), merge(a, merge(b, c, limits), limits))) unequalOrders++;
      const converged = exchangeAll([a, b, c]);
      // The rules drop only siblings with ids: a write without one survives exactly as plain DVV merge keeps it.
      const plainKept = [...a.siblings.filter((x) => b.siblings.some((y) => y.dot.id === x.dot.id && y.dot.counter === x.dot.counter) || !covers(b.clock, x.dot)), ...b.siblings.filter((y) => !covers(a.clock, y.dot))];
      if (plainKept.some((x) => x.requestId === undefined && !ab.siblings.some((y) => y.dot.id === x.dot.id && y.dot.counter === x.dot.counter))) return false;
      return noDuplicateIds(ab) && same(ab, merge(b, a, limits)) && same(merge(a, a, limits), a) && converged.every((o) => same(o, converged[0]!) && noDuplicateIds(o));
    }),
    { numRuns: 3_000, seed: 173 },
  );
  t.comment(`merge orders that differed before the exchange (the forgotten-attempt window): ${unequalOrders} of 3,000`);
  t.pass('3,000 random histories');
});

t.test('property: a write no other write superseded is held exactly once once replicas converged, however often it was retried', async (t) => {
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 40 }), (events) => {
      const { finals, written, superseded } = run(events);
      const converged = exchangeAll(finals)[0]!;
      const held = converged.siblings.map((s) => new TextDecoder().decode(s.value));
      return [...written].filter((v) => !superseded.has(v)).every((v) => held.filter((h) => h === v).length === 1);
    }),
    { numRuns: 2_000, seed: 1703 },
  );
  t.pass('2,000 random histories');
});
