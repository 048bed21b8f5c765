// Property tests of the data types: join laws, counters that add up, add-wins sets whose
// removals remove only what they observed, operations that commute with joins, and the codec.
import t from 'tap';
import fc from 'fast-check';
import {
  applyOperation,
  contains,
  coversContext,
  decodeContextToken,
  decodeDataType,
  defaultDataTypeLimits as limits,
  encodeContextToken,
  encodeDataType,
  encodeDataTypeText,
  join,
  maxCounter,
  parseOperation,
  valueOf,
  type CausalContext,
  type DataType,
  type Dot,
  type Operation,
} from '../index.js';

const REPLICAS = 3;
const ELEMENTS = ['a', 'b', 'c', 'd'];

/** One step of a history: an operation at a replica, or a replica receiving another's state. */
type Step = { at: number; op: unknown } | { at: number; from: number };

/** A replica: its actor issues dots in sequence on its own state (the rule docs/datatypes.md gives). */
class Replica {
  state: DataType | undefined;
  constructor(readonly actor: string) {}
  nextDot(): Dot {
    return { actor: this.actor, counter: maxCounter(this.state?.context ?? { vv: new Map(), cloud: new Map() }, this.actor) + 1 };
  }
  apply(op: Operation, nowMs = 1): Dot {
    const dot = this.nextDot();
    this.state = applyOperation(this.state, op, dot, nowMs, limits);
    return dot;
  }
  receive(other: DataType | undefined): void {
    if (other === undefined) return;
    this.state = this.state === undefined ? other : join(this.state, other);
  }
}

/**
 * `op` applied at a replica holding `a`'s state, before and after it joins `b`'s: the two
 * resulting states, which must have the same value.
 */
function bothOrders(a: Replica, b: Replica, op: Operation): [DataType, DataType] {
  const opThenJoin = new Replica('r0');
  opThenJoin.state = a.state;
  opThenJoin.apply(op);
  opThenJoin.receive(b.state);
  const joinThenOp = new Replica('r0');
  joinThenOp.state = a.state;
  joinThenOp.receive(b.state);
  joinThenOp.apply(op);
  return [opThenJoin.state!, joinThenOp.state!];
}

function run(steps: readonly Step[], onOp?: (replica: Replica, op: Operation, dot: Dot) => void): Replica[] {
  const replicas = Array.from({ length: REPLICAS }, (_, i) => new Replica(`r${i}`));
  for (const step of steps) {
    const replica = replicas[step.at]!;
    if ('from' in step) replica.receive(replicas[step.from]!.state);
    else {
      const op = parseOperation(step.op, limits);
      const dot = replica.apply(op);
      onOp?.(replica, op, dot);
    }
  }
  return replicas;
}

const replicaIndex = fc.integer({ min: 0, max: REPLICAS - 1 });
const element = fc.constantFrom(...ELEMENTS);
const counterOp = fc.oneof(fc.record({ increment: fc.integer({ min: 0, max: 100 }) }), fc.record({ decrement: fc.integer({ min: 0, max: 100 }) }));
const setOp = fc.oneof(fc.record({ add: fc.uniqueArray(element, { minLength: 1, maxLength: 2 }) }), fc.record({ remove: fc.uniqueArray(element, { minLength: 1, maxLength: 2 }) }));
// Field names decide the kind, so a history never asks a field to change kind.
const innerMapOp = fc.record({ update: fc.record({ c: counterOp, s: setOp }, { requiredKeys: [] }) });
const mapOp = fc.oneof(
  fc.record(
    {
      update: fc.record(
        { c: counterOp, s: setOp, r: fc.record({ assign: fc.oneof(fc.string({ maxLength: 3 }), fc.integer()) }), f: fc.constantFrom({ enable: true }, { disable: true }), m: innerMapOp },
        { requiredKeys: [] },
      ),
    },
  ),
  // A bare {"remove"} on a key holding nothing makes a set, so a map history says "update" too.
  fc.record({ update: fc.constant({}), remove: fc.uniqueArray(fc.constantFrom('c', 's', 'r', 'f', 'm'), { minLength: 1, maxLength: 2 }) }),
);

function history(op: fc.Arbitrary<unknown>): fc.Arbitrary<Step[]> {
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ at: replicaIndex, op }) },
    { weight: 2, arbitrary: fc.record({ at: replicaIndex, from: replicaIndex }) },
  );
  return fc.array(step, { maxLength: 40 });
}

const text = (dt: DataType | undefined) => (dt === undefined ? '' : encodeDataTypeText(dt));

for (const [name, op] of [['counter', counterOp], ['set', setOp], ['map', mapOp]] as const) {
  t.test(`${name}: join is commutative, associative and idempotent`, async (t) => {
    fc.assert(
      fc.property(history(op), (steps) => {
        const [a, b, c] = run(steps).map((r) => r.state);
        if (a === undefined || b === undefined || c === undefined) return true;
        return (
          text(join(a, b)) === text(join(b, a)) &&
          text(join(join(a, b), c)) === text(join(a, join(b, c))) &&
          text(join(a, a)) === text(a)
        );
      }),
      { numRuns: 300 },
    );
    t.pass('300 histories');
  });

  t.test(`${name}: replicas that exchange states converge, and the codec round-trips`, async (t) => {
    fc.assert(
      fc.property(history(op), (steps) => {
        const replicas = run(steps);
        for (const r of replicas) for (const other of replicas) r.receive(other.state);
        for (const r of replicas) for (const other of replicas) r.receive(other.state);
        const texts = new Set(replicas.map((r) => text(r.state)));
        const state = replicas[0]!.state;
        return texts.size === 1 && (state === undefined || text(decodeDataType(encodeDataType(state, limits), limits)) === text(state));
      }),
      { numRuns: 200 },
    );
    t.pass('200 histories');
  });
}

t.test('counter: the converged value is the sum of every increment, whatever the order of joins', async (t) => {
  fc.assert(
    fc.property(history(counterOp), (steps) => {
      let sum = 0;
      const replicas = run(steps, (_r, op) => (sum += (op as { increment: number }).increment));
      const merged = new Replica('m');
      for (const r of replicas) merged.receive(r.state);
      return (merged.state === undefined ? 0 : valueOf(merged.state)) === sum;
    }),
    { numRuns: 300 },
  );
  t.pass('300 histories');
});

t.test('counter and set: an operation then a join equals the join then the operation (in value)', async (t) => {
  fc.assert(
    fc.property(history(fc.oneof(setOp)), element, (steps, added) => {
      const [a, b] = run(steps);
      const op = parseOperation({ add: [added] }, limits);
      const [opThenJoin, joinThenOp] = bothOrders(a!, b!, op);
      return JSON.stringify(valueOf(opThenJoin)) === JSON.stringify(valueOf(joinThenOp));
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(history(counterOp), fc.integer({ min: 1, max: 50 }), (steps, by) => {
      const [a, b] = run(steps);
      const op = parseOperation({ increment: by }, limits);
      const [opThenJoin, joinThenOp] = bothOrders(a!, b!, op);
      return valueOf(opThenJoin) === valueOf(joinThenOp);
    }),
    { numRuns: 300 },
  );
  t.pass('300 histories each');
});

t.test('set: add wins; a removal removes only the adds its context observed', async (t) => {
  const withToken = fc.oneof(setOp, fc.record({ remove: fc.uniqueArray(element, { minLength: 1, maxLength: 2 }), stale: fc.constant(true) }));
  fc.assert(
    fc.property(history(withToken), (rawSteps) => {
      const replicas = Array.from({ length: REPLICAS }, (_, i) => new Replica(`r${i}`));
      // The context each replica's last read handed out: a removal may send an older one.
      const tokens: Array<CausalContext | undefined> = Array.from({ length: REPLICAS });
      const adds: Array<{ element: string; dot: Dot }> = [];
      const removes: Array<{ element: string; observed: CausalContext }> = [];
      for (const step of rawSteps) {
        const replica = replicas[step.at]!;
        if ('from' in step) {
          replica.receive(replicas[step.from]!.state);
          continue;
        }
        const raw = step.op as { add?: string[]; remove?: string[]; stale?: boolean };
        const token = raw.stale === true ? tokens[step.at] : undefined;
        const body = raw.add ? { add: raw.add } : { remove: raw.remove, ...(token ? { context: encodeContextToken(token) } : {}) };
        const op = parseOperation(body, limits);
        const observed = token ?? replica.state?.context ?? { vv: new Map(), cloud: new Map() };
        const dot = replica.apply(op);
        for (const e of raw.add ?? []) adds.push({ element: e, dot });
        for (const e of raw.remove ?? []) removes.push({ element: e, observed });
        tokens[step.at] = replica.state!.context;
      }
      const merged = new Replica('m');
      for (const r of replicas) merged.receive(r.state);
      const value = merged.state === undefined ? [] : (valueOf(merged.state) as string[]);
      const expected = ELEMENTS.filter((e) => adds.some((a) => a.element === e && !removes.some((r) => r.element === e && contains(r.observed, a.dot))));
      return JSON.stringify(value) === JSON.stringify(expected);
    }),
    { numRuns: 500 },
  );
  t.pass('500 histories');
});

t.test('map: concurrent field update wins over a field removal that did not see it', async (t) => {
  const a = new Replica('a');
  a.apply(parseOperation({ update: { visits: { increment: 2 }, tags: { add: ['x'] } } }, limits));
  const b = new Replica('b');
  b.receive(a.state);
  b.apply(parseOperation({ remove: ['visits', 'tags'] }, limits));
  a.apply(parseOperation({ update: { visits: { increment: 3 }, tags: { add: ['y'] } } }, limits));
  b.receive(a.state);
  // The removal removed the element it saw (x); the concurrent add of y survives. A counter's
  // actor carries its whole contribution in one entry, so a concurrent increment by an actor
  // that had not seen the removal brings that actor's earlier 2 back with it (docs/datatypes.md).
  t.same(valueOf(b.state!), { tags: ['y'], visits: 5 });
});

t.test('a field named __proto__ is a field like any other', async (t) => {
  const a = new Replica('a');
  a.apply(parseOperation(JSON.parse('{"update": {"__proto__": {"increment": 2}, "x": {"assign": {"__proto__": 1}}}}'), limits));
  t.equal(JSON.stringify(valueOf(a.state!)), '{"__proto__":2,"x":{"__proto__":1}}');
  t.equal(text(decodeDataType(encodeDataType(a.state!, limits), limits)), text(a.state));
});

t.test('map: registers show the latest timestamp; flags are enable-wins', async (t) => {
  const a = new Replica('a');
  a.apply(parseOperation({ update: { name: { assign: 'old' }, on: { enable: true } } }, limits), 10);
  const b = new Replica('b');
  b.receive(a.state);
  b.apply(parseOperation({ update: { name: { assign: 'new' }, on: { disable: true } } }, limits), 20);
  a.apply(parseOperation({ update: { on: { enable: true } } }, limits), 15);
  a.receive(b.state);
  t.same(valueOf(a.state!), { name: 'new', on: true });
});

t.test('a field of another kind, or a key of another type, is a coded 409', async (t) => {
  const a = new Replica('a');
  a.apply(parseOperation({ update: { visits: { increment: 1 } } }, limits));
  t.throws(() => a.apply(parseOperation({ update: { visits: { add: ['x'] } } }, limits)), { code: 'KV_ERR_DT_TYPE_MISMATCH' });
  t.throws(() => a.apply(parseOperation({ increment: 1 }, limits)), { code: 'KV_ERR_DT_TYPE_MISMATCH' });
  const c = new Replica('c');
  c.apply(parseOperation({ increment: 1 }, limits));
  t.throws(() => join(a.state!, c.state!), { code: 'KV_ERR_DT_TYPE_MISMATCH' });
});

t.test('malformed operations are coded 400s', async (t) => {
  const bad = [null, [], 'x', {}, { increment: -1 }, { increment: 1.5 }, { increment: 2 ** 53 }, { add: 'a' }, { add: [1] }, { add: ['a'], extra: 1 }, { assign: 1 }, { enable: true }, { update: { f: { enable: false } } }, { update: { f: {} } }, { update: [] }, { add: ['x'.repeat(limits.stringBytesMax + 1)] }, { add: Array.from({ length: limits.operationItemsMax + 1 }, (_, i) => String(i)) }];
  for (const body of bad) t.throws(() => parseOperation(body, limits), { code: 'KV_ERR_DT_BAD_OPERATION' }, JSON.stringify(body)?.slice(0, 60));
  let nested: unknown = 1;
  for (let i = 0; i < 100_000; i++) nested = [nested];
  t.throws(() => parseOperation({ update: { r: { assign: nested } } }, limits), { code: 'KV_ERR_DT_BAD_OPERATION' }, 'a register value nested 100,000 deep');
  let deep: unknown = { increment: 1 };
  for (let i = 0; i < limits.depthMax; i++) deep = { update: { f: deep } };
  t.throws(() => parseOperation(deep, limits), { code: 'KV_ERR_DT_BAD_OPERATION' }, 'nesting past depthMax');
  t.throws(() => parseOperation({ remove: ['a'], context: 'not a token!' }, limits), { code: 'KV_ERR_BAD_CONTEXT' });
  t.throws(() => decodeContextToken(Buffer.from('{"vv":[["a",0]],"cloud":[]}').toString('base64url'), limits), { code: 'KV_ERR_BAD_CONTEXT' });
});

t.test('malformed or oversize stored states are coded errors, never crashes', async (t) => {
  const good = new Replica('a');
  good.apply(parseOperation({ add: ['x', 'y'] }, limits));
  const bytes = encodeDataType(good.state!, limits);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
      const broken = Uint8Array.from(bytes);
      broken[at] = byte;
      try {
        decodeDataType(broken, limits);
      } catch (error) {
        return (error as { code?: string }).code === 'KV_ERR_DT_TYPE_MISMATCH';
      }
      return true;
    }),
    { numRuns: 500 },
  );
  const small = { ...limits, entriesMax: 3 };
  t.throws(() => decodeDataType(bytes, small), { code: 'KV_ERR_DT_TYPE_MISMATCH' }, 'past entriesMax on decode');
  t.throws(() => good.apply(parseOperation({ add: ['p', 'q', 'r'] }, limits)) && encodeDataType(good.state!, small), { code: 'KV_ERR_DT_TOO_LARGE' });
  t.throws(() => encodeDataType(good.state!, { ...limits, bytesMax: 10 }), { code: 'KV_ERR_DT_TOO_LARGE' });
});

t.test('fuzz: any JSON as an operation, a stored state or a context is parsed or refused with a code', async (t) => {
  const coded = (fn: () => unknown, codes: string[]) => {
    try {
      fn();
      return true;
    } catch (error) {
      return codes.includes((error as { code?: string }).code ?? '');
    }
  };
  const json = fc.jsonValue({ maxDepth: 6 });
  const shaped = fc.oneof(json, fc.record({ update: fc.dictionary(fc.string({ maxLength: 3 }), json) }), fc.record({ add: json, remove: json, context: json }));
  fc.assert(fc.property(shaped, (raw) => coded(() => parseOperation(raw, limits), ['KV_ERR_DT_BAD_OPERATION', 'KV_ERR_BAD_CONTEXT'])), { numRuns: 1000 });
  const state = fc.record({ ringkv: fc.constant('dt/1'), store: fc.oneof(json, fc.record({ set: json }), fc.record({ map: json }), fc.record({ counter: json })), context: fc.oneof(json, fc.record({ vv: json, cloud: json })) });
  fc.assert(fc.property(fc.oneof(json, state), (raw) => coded(() => decodeDataType(Buffer.from(JSON.stringify(raw) ?? ''), limits), ['KV_ERR_DT_TYPE_MISMATCH'])), { numRuns: 1000 });
  fc.assert(fc.property(fc.oneof(json, fc.record({ vv: json, cloud: json })), (raw) => coded(() => decodeContextToken(Buffer.from(JSON.stringify(raw) ?? '').toString('base64url'), limits), ['KV_ERR_BAD_CONTEXT'])), { numRuns: 1000 });
  t.pass('3,000 inputs');
});

t.test('coversContext: every dot of the one in the other, vector and cloud; a huge claimed gap is not covered', async (t) => {
  const ctx = (vv: Array<[string, number]>, cloud: Array<[string, number]> = []): CausalContext => ({ vv: new Map(vv), cloud: new Map(cloud.map(([actor, counter]) => [`${actor}\u0000${counter}`, { actor, counter }])) });
  t.ok(coversContext(ctx([['a', 3]]), ctx([['a', 2]])));
  t.notOk(coversContext(ctx([['a', 1]]), ctx([['a', 2]])));
  t.ok(coversContext(ctx([['a', 1]], [['a', 2]]), ctx([['a', 2]])), 'the gap held by the cloud');
  t.notOk(coversContext(ctx([['a', 1]], [['a', 3]]), ctx([['a', 3]])), 'a dot of the gap missing');
  t.ok(coversContext(ctx([['a', 5]]), ctx([], [['a', 4]])), 'a cloud dot under the vector');
  t.notOk(coversContext(ctx([['b', 5]]), ctx([], [['a', 4]])));
  t.notOk(coversContext(ctx([['a', 1]]), ctx([['a', Number.MAX_SAFE_INTEGER]])), 'no loop over a claimed counter of 2^53');
  t.ok(coversContext(ctx([]), ctx([])));
});
