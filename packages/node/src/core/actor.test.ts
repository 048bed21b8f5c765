// The actor rule (core/actor.ts) over generated histories of one key on four nodes: writes by
// coordinators that keep a copy and by coordinators that do not (with or without a stale copy),
// with and without contexts, partial replication, anti-entropy, handoff that deletes a row,
// disks wiped (new epoch), restarts with the clock stepped back, and clocks stepped forwards.
// Ground truth is kept beside the clocks: the set of writes each row and each read truly
// includes. The property: once every row is merged, every write is present unless a later write
// was made with a context from a read that truly included it (only then was it superseded).
import t from 'tap';
import fc from 'fast-check';
import { chooseActor, isOwnActor, ACTOR_SUFFIX_CHARS } from './actor.js';
import { contextOf, merge, plantedBugs, update, type VersionedObject } from './versioned.js';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const NODES = 4;

type Op =
  | { kind: 'write'; node: number; keepsCopy: boolean; contextFrom: number | null; sendTo: number[] }
  | { kind: 'sync'; from: number; to: number }
  | { kind: 'handoff'; from: number; to: number; wipe: boolean }
  | { kind: 'restart'; node: number; stepMs: number };

const node = fc.integer({ min: 0, max: NODES - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), node, keepsCopy: fc.boolean(), contextFrom: fc.option(node, { nil: null }), sendTo: fc.uniqueArray(node, { maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: node, to: node }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('handoff' as const), from: node, to: node, wipe: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node, stepMs: fc.integer({ min: -60_000, max: 60_000 }) }) },
);

interface Row {
  object: VersionedObject;
  actor: string | undefined;
  /** Ground truth: the writes (by value) this row's state includes. */
  history: Set<string>;
}

interface Node {
  row: Row | undefined;
  epoch: string;
  lastCounter: number;
  clockOffsetMs: number;
}

/** Replays `ops`; returns the writes lost (present nowhere, superseded by nobody). */
function run(ops: readonly Op[], seed: number): string[] {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  let epochs = 0;
  const nodes: Node[] = Array.from({ length: NODES }, () => ({ row: undefined, epoch: `e${String(epochs++).padStart(7, '0')}`, lastCounter: 0, clockOffsetMs: 0 }));
  let baseMs = 1_700_000_000_000;
  const written: string[] = [];
  const superseded = new Set<string>();
  const mergeInto = (target: Node, object: VersionedObject, history: ReadonlySet<string>) => {
    if (target.row === undefined) target.row = { object, actor: undefined, history: new Set(history) };
    else {
      target.row.object = merge(target.row.object, object, limits);
      for (const id of history) target.row.history.add(id);
    }
  };
  for (const step of ops) {
    baseMs += 10;
    if (step.kind === 'write') {
      const coordinator = nodes[step.node]!;
      const nowMs = baseMs + coordinator.clockOffsetMs;
      const source = step.contextFrom === null ? undefined : nodes[step.contextFrom]!.row;
      const context = source === undefined ? [] : contextOf(source.object);
      const stored = coordinator.row?.object;
      const { actor, fresh } = chooseActor({ selfId: `n${step.node}`, epoch: coordinator.epoch, keepsCopy: step.keepsCopy, stored, rowActor: step.keepsCopy ? coordinator.row?.actor : undefined, random });
      const counterFloor = Math.max(coordinator.lastCounter + 1, Math.floor(nowMs * 1000));
      const value = `w${written.length}`;
      const object = update(stored, { coordinatorId: actor, context, deleted: false, value: new TextEncoder().encode(value), contentType: 'text/plain', nowMs, counterFloor }, limits);
      coordinator.lastCounter = Math.max(coordinator.lastCounter, ...object.siblings.filter((s) => s.dot.id === actor).map((s) => s.dot.counter));
      const history = new Set([...(coordinator.row?.history ?? []), ...(source?.history ?? []), value]);
      const targets = step.sendTo.filter((i) => i !== step.node);
      // An acknowledged write is stored somewhere: by the coordinator when it keeps a copy, else
      // by at least one replica (the model skips writes nobody would have acknowledged).
      if (!step.keepsCopy && targets.length === 0) continue;
      written.push(value);
      // What the client read: only the writes its context came with are superseded by this one.
      for (const id of source?.history ?? []) superseded.add(id);
      if (step.keepsCopy) {
        mergeInto(coordinator, object, history);
        coordinator.row!.object = object; // the coordinator's own write replaces its row (update built on it)
        if (fresh) coordinator.row!.actor = actor;
      }
      for (const i of targets) mergeInto(nodes[i]!, object, history);
    } else if (step.kind === 'sync') {
      const from = nodes[step.from]!;
      if (step.from !== step.to && from.row !== undefined) mergeInto(nodes[step.to]!, from.row.object, from.row.history);
    } else if (step.kind === 'handoff') {
      // The row goes to another node first (handoff acks before it deletes), then is deleted;
      // `wipe` loses the whole disk as well: a new epoch and a new process.
      const from = nodes[step.from]!;
      if (step.from === step.to) continue;
      if (from.row !== undefined) mergeInto(nodes[step.to]!, from.row.object, from.row.history);
      from.row = undefined;
      if (step.wipe) Object.assign(from, { epoch: `e${String(epochs++).padStart(7, '0')}`, lastCounter: 0 });
    } else {
      // A restart on the same disk: the process forgets its counter, and the clock may step.
      const target = nodes[step.node]!;
      target.lastCounter = 0;
      target.clockOffsetMs += step.stepMs;
    }
  }
  let final: VersionedObject | undefined;
  for (const n of nodes) if (n.row !== undefined) final = final === undefined ? n.row.object : merge(final, n.row.object, limits);
  const present = new Set((final?.siblings ?? []).map((s) => new TextDecoder().decode(s.value)));
  return written.filter((value) => !present.has(value) && !superseded.has(value));
}

const histories = fc.tuple(fc.array(op, { minLength: 1, maxLength: 40 }), fc.integer());

t.test('no write is lost unless a read that included it was written over (generated histories)', async (t) => {
  fc.assert(fc.property(histories, ([ops, seed]) => run(ops, seed).length === 0), { numRuns: 2_000, seed: 19 });
  t.pass('2,000 histories');
});

t.test('the check fails when the planted bug (one node-wide actor, issue 19) is on', async (t) => {
  plantedBugs.actorWithoutCopy = true;
  t.teardown(() => void (plantedBugs.actorWithoutCopy = false));
  const failure = fc.check(fc.property(histories, ([ops, seed]) => run(ops, seed).length === 0), { numRuns: 2_000, seed: 19 });
  t.ok(failure.failed, 'a generated history loses a write');
  t.comment(`counterexample: ${JSON.stringify(failure.counterexample?.[0]?.[0])}`);
});

t.test('the scenario of issue 19 point 1: two blind writes through a coordinator without a copy stay siblings', async (t) => {
  const random = () => 0.5;
  // Primaries hold nothing reachable; node x coordinates twice without keeping a copy.
  const first = chooseActor({ selfId: 'x', epoch: 'epoch001', keepsCopy: false, stored: undefined, rowActor: undefined, random });
  const v1 = update(undefined, { coordinatorId: first.actor, context: [], deleted: false, value: new Uint8Array([1]), contentType: '', nowMs: 1, counterFloor: 100 }, limits);
  const second = chooseActor({ selfId: 'x', epoch: 'epoch001', keepsCopy: false, stored: undefined, rowActor: undefined, random: () => 0.25 });
  const v2 = update(undefined, { coordinatorId: second.actor, context: [], deleted: false, value: new Uint8Array([2]), contentType: '', nowMs: 2, counterFloor: 200 }, limits);
  t.not(first.actor, second.actor, 'each write without a copy gets its own actor');
  t.equal(merge(v1, v2, limits).siblings.length, 2, 'both writes survive the merge as siblings');
});

t.test('a kept copy reuses its row actor only under the current epoch and while the clock has its entry', async (t) => {
  const random = () => 0.1;
  const fresh = chooseActor({ selfId: 'a', epoch: 'epoch001', keepsCopy: true, stored: undefined, rowActor: undefined, random });
  t.ok(fresh.fresh, 'no row: a fresh actor');
  t.equal(fresh.actor.length, 'a~epoch001'.length + ACTOR_SUFFIX_CHARS);
  t.ok(isOwnActor(fresh.actor, 'a', 'epoch001'));
  const stored = update(undefined, { coordinatorId: fresh.actor, context: [], deleted: false, value: new Uint8Array(), contentType: '', nowMs: 1 }, limits);
  t.same(chooseActor({ selfId: 'a', epoch: 'epoch001', keepsCopy: true, stored, rowActor: fresh.actor, random }), { actor: fresh.actor, fresh: false }, 'reused');
  t.ok(chooseActor({ selfId: 'a', epoch: 'epoch002', keepsCopy: true, stored, rowActor: fresh.actor, random }).fresh, 'a new epoch: fresh');
  t.ok(chooseActor({ selfId: 'a', epoch: 'epoch001', keepsCopy: false, stored, rowActor: fresh.actor, random }).fresh, 'no copy kept: fresh');
  t.ok(chooseActor({ selfId: 'a', epoch: 'epoch001', keepsCopy: true, stored: { clock: [], siblings: [] }, rowActor: fresh.actor, random }).fresh, 'entry pruned: fresh');
  t.ok(chooseActor({ selfId: 'a', epoch: 'epoch001', keepsCopy: true, stored, rowActor: 'a~epoch001', random }).fresh, 'a legacy node-wide actor: fresh');
});
