import t, { type Test } from 'tap';
import { BATCH_BYTES_MAX_DEFAULT, PeerQueue, QUEUE_BYTES_MAX_DEFAULT, SIBLING_OVERHEAD_BYTES, estimateOpBytes, type PeerQueueLimits } from './peer-queue.js';
import type { ReplicaOp, ReplicaResult } from './messages.js';
import type { VersionedObject } from '../core/versioned.js';
import { KvError } from '../errors.js';

/** A scheduler the test runs by hand: `turn()` runs what the last turn scheduled. */
class ManualScheduler {
  private tasks: Array<() => void> = [];
  readonly schedule = (fn: () => void): void => void this.tasks.push(fn);
  get pending(): number {
    return this.tasks.length;
  }
  turn(): void {
    const tasks = this.tasks;
    this.tasks = [];
    for (const task of tasks) task();
  }
}

interface Sent {
  readonly ops: ReplicaOp[];
  resolve(results: ReplicaResult[]): void;
  reject(error: unknown): void;
}

/** A sendBatch whose batches the test answers (or fails) one by one. */
class FakePeer {
  readonly sent: Sent[] = [];
  readonly send = (ops: ReplicaOp[]): Promise<ReplicaResult[]> =>
    new Promise((resolve, reject) => this.sent.push({ ops: [...ops], resolve, reject }));
  /** Answers batch `i` with one result per op: a get echoes nothing, a put is acknowledged. */
  answer(i: number): void {
    this.sent[i]!.resolve(this.sent[i]!.ops.map(() => ({ ok: true })));
  }
  keys(i: number): string[] {
    return this.sent[i]!.ops.map((op) => op.key);
  }
}

type Outcome = { state: 'pending' } | { state: 'resolved'; value: ReplicaResult } | { state: 'rejected'; error: unknown };

/** Tracks a promise's outcome without awaiting it. */
function track(promise: Promise<ReplicaResult>): Outcome {
  const outcome = { state: 'pending' } as Outcome;
  promise.then(
    (value) => Object.assign(outcome, { state: 'resolved', value }),
    (error: unknown) => Object.assign(outcome, { state: 'rejected', error }),
  );
  return outcome;
}

/** Lets settled promises run their callbacks (microtasks only: no scheduler turn passes). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const get = (key: string): ReplicaOp => ({ kind: 'get', key });

function setup(limits: Partial<PeerQueueLimits> = {}) {
  const scheduler = new ManualScheduler();
  const peer = new FakePeer();
  const queue = new PeerQueue('peer-1', { batchOpsMax: 100, inflightMax: 4, queueOpsMax: 1_000, ...limits }, peer.send, scheduler.schedule);
  const push = (key: string) => track(queue.push(get(key)));
  return { scheduler, peer, queue, push };
}

function codeOf(outcome: Outcome): string | undefined {
  return outcome.state === 'rejected' && outcome.error instanceof KvError ? outcome.error.code : undefined;
}

function states(outcomes: Outcome[]): string[] {
  return outcomes.map((o) => o.state);
}

t.test('ops pushed in one turn go out as one batch at the end of the turn, in order', async (t) => {
  const { scheduler, peer, queue, push } = setup();
  const outcomes = ['a', 'b', 'c', 'd', 'e'].map(push);
  t.equal(peer.sent.length, 0, 'nothing is sent within the turn');
  t.equal(scheduler.pending, 1, 'one flush is scheduled for all five');
  t.equal(queue.depth, 5);
  scheduler.turn();
  t.equal(peer.sent.length, 1, 'one batch');
  t.same(peer.keys(0), ['a', 'b', 'c', 'd', 'e'], 'carrying the ops in push order');
  t.equal(queue.depth, 0, 'nothing waits any more');
  peer.sent[0]!.resolve(['a', 'b', 'c', 'd', 'e'].map((key) => ({ ok: false, code: 'KV_ERR_INTERNAL', message: key })));
  await settle();
  t.same(
    outcomes.map((o) => (o.state === 'resolved' && !o.value.ok ? o.value.message : o.state)),
    ['a', 'b', 'c', 'd', 'e'],
    'each op gets the result at its own position',
  );
});

t.test('ops pushed in separate turns go out as separate batches', async (t) => {
  const { scheduler, peer, push } = setup();
  push('a');
  push('b');
  scheduler.turn();
  push('c');
  t.equal(scheduler.pending, 1, 'a new flush is scheduled for the next turn');
  scheduler.turn();
  t.same([peer.keys(0), peer.keys(1)], [['a', 'b'], ['c']]);
  scheduler.turn();
  t.equal(peer.sent.length, 2, 'an empty turn sends nothing');
});

t.test('a turn with more than batchOpsMax ops is split into batches of at most batchOpsMax', async (t) => {
  const { scheduler, peer, push } = setup({ batchOpsMax: 3, inflightMax: 8 });
  const keys = Array.from({ length: 7 }, (_, i) => `k${i}`);
  const outcomes = keys.map(push);
  scheduler.turn();
  t.same(
    peer.sent.map((_, i) => peer.keys(i)),
    [['k0', 'k1', 'k2'], ['k3', 'k4', 'k5'], ['k6']],
    '3 + 3 + 1, in order',
  );
  peer.answer(2);
  peer.answer(0);
  await settle();
  t.same(states(outcomes), ['resolved', 'resolved', 'resolved', 'pending', 'pending', 'pending', 'resolved'], 'each batch settles its own ops');
  peer.answer(1);
  await settle();
  t.ok(outcomes.every((o) => o.state === 'resolved'));
});

t.test('at most inflightMax batches are in flight; later ops wait and form the next batch', async (t) => {
  const { scheduler, peer, queue, push } = setup({ batchOpsMax: 100, inflightMax: 2 });
  push('a');
  scheduler.turn();
  push('b');
  scheduler.turn();
  t.equal(peer.sent.length, 2, 'two batches in flight');
  const waiting = ['c', 'd', 'e'].map(push);
  scheduler.turn();
  push('f');
  scheduler.turn();
  t.equal(peer.sent.length, 2, 'no third batch while two are in flight');
  t.equal(queue.depth, 4, 'four ops wait');
  t.same(states(waiting), ['pending', 'pending', 'pending']);
  peer.answer(0);
  await settle();
  t.equal(peer.sent.length, 3, 'a freed slot sends at once (no extra turn needed)');
  t.same(peer.keys(2), ['c', 'd', 'e', 'f'], 'everything that waited goes out as one batch');
  t.equal(queue.depth, 0);
  peer.answer(1);
  await settle();
  t.equal(peer.sent.length, 3, 'nothing more to send');
  peer.answer(2);
  await settle();
  t.same(states(waiting), ['resolved', 'resolved', 'resolved']);
});

t.test('waiting ops that exceed batchOpsMax still go out in batches of at most batchOpsMax when slots free up', async (t) => {
  const { scheduler, peer, push } = setup({ batchOpsMax: 2, inflightMax: 1 });
  push('a');
  scheduler.turn();
  ['b', 'c', 'd', 'e', 'f'].map(push);
  scheduler.turn();
  t.equal(peer.sent.length, 1);
  peer.answer(0);
  await settle();
  t.equal(peer.sent.length, 2, 'one slot: one more batch');
  t.same(peer.keys(1), ['b', 'c']);
  peer.answer(1);
  await settle();
  peer.answer(2);
  await settle();
  t.same(peer.sent.map((_, i) => peer.keys(i)), [['a'], ['b', 'c'], ['d', 'e'], ['f']]);
});

t.test('past queueOpsMax waiting ops, a push is refused with KV_ERR_OVERLOADED', async (t) => {
  const { scheduler, peer, queue, push } = setup({ batchOpsMax: 100, inflightMax: 1, queueOpsMax: 3 });
  const accepted = ['a', 'b', 'c'].map(push);
  const refused = push('d');
  await settle();
  t.equal(codeOf(refused), 'KV_ERR_OVERLOADED', 'the fourth waiting op is refused');
  t.equal(refused.state === 'rejected' && refused.error instanceof KvError ? refused.error.details['peer'] : undefined, 'peer-1', 'naming the peer');
  t.equal(queue.depth, 3, 'the refused op was not queued');
  t.same(states(accepted), ['pending', 'pending', 'pending']);
  scheduler.turn();
  t.same(peer.keys(0), ['a', 'b', 'c'], 'the refused op is not sent');
  // In-flight ops do not count: the queue accepts three more while the batch is out.
  const next = ['e', 'f', 'g'].map(push);
  const refusedAgain = push('h');
  await settle();
  t.same(states(next), ['pending', 'pending', 'pending']);
  t.equal(codeOf(refusedAgain), 'KV_ERR_OVERLOADED');
  scheduler.turn();
  t.equal(peer.sent.length, 1, 'the single in-flight slot is taken: e, f, g wait');
  peer.answer(0);
  await settle();
  t.same(peer.keys(1), ['e', 'f', 'g']);
  const afterwards = push('i');
  t.equal(afterwards.state, 'pending', 'once the queue drained below the limit, pushes are accepted again');
});

t.test('a failed send rejects exactly that batch\'s ops, with its error; the slot is freed', async (t) => {
  const { scheduler, peer, push } = setup({ batchOpsMax: 2, inflightMax: 2 });
  const first = ['a', 'b'].map(push);
  const second = ['c', 'd'].map(push);
  scheduler.turn();
  const third = ['e'].map(push);
  scheduler.turn();
  t.equal(peer.sent.length, 2, 'two batches in flight, e waits');
  const failure = new KvError('KV_ERR_PEER_UNREACHABLE', 'connection refused');
  peer.sent[0]!.reject(failure);
  await settle();
  t.same(states(first), ['rejected', 'rejected'], "the failed batch's ops reject");
  t.ok(first.every((o) => o.state === 'rejected' && o.error === failure), 'with the error the send failed with');
  t.same(states(second), ['pending', 'pending'], 'the other batch is untouched');
  t.equal(peer.sent.length, 3, 'the freed slot sends the waiting op');
  t.same(peer.keys(2), ['e']);
  peer.answer(1);
  peer.answer(2);
  await settle();
  t.same(states([...second, ...third]), ['resolved', 'resolved', 'resolved']);
});

t.test('a short result array rejects the ops without a result with KV_ERR_PEER_UNREACHABLE', async (t) => {
  const { scheduler, peer, push } = setup();
  const outcomes = ['a', 'b', 'c'].map(push);
  scheduler.turn();
  peer.sent[0]!.resolve([{ ok: true }]);
  await settle();
  t.equal(outcomes[0]!.state, 'resolved', 'the op that got a result resolves with it');
  t.equal(codeOf(outcomes[1]!), 'KV_ERR_PEER_UNREACHABLE');
  t.equal(codeOf(outcomes[2]!), 'KV_ERR_PEER_UNREACHABLE');
  const empty = ['d'].map(push);
  scheduler.turn();
  peer.sent[1]!.resolve([]);
  await settle();
  t.equal(codeOf(empty[0]!), 'KV_ERR_PEER_UNREACHABLE', 'an empty answer too');
});

t.test('drain rejects every waiting op with the given error; in-flight ops still settle', async (t) => {
  const { scheduler, peer, queue, push } = setup({ inflightMax: 1 });
  const inflight = ['a', 'b'].map(push);
  scheduler.turn();
  const waiting = ['c', 'd', 'e'].map(push);
  scheduler.turn(); // no slot: they wait
  t.equal(queue.depth, 3);
  const closed = new KvError('KV_ERR_SHUTTING_DOWN', 'transport closed');
  queue.drain(closed);
  await settle();
  t.equal(queue.depth, 0, 'the queue is empty');
  t.ok(waiting.every((o) => o.state === 'rejected' && o.error === closed), 'each waiting op rejects with the drain error');
  t.same(states(inflight), ['pending', 'pending'], 'ops already sent are not touched');
  peer.answer(0);
  await settle();
  t.same(states(inflight), ['resolved', 'resolved'], 'and resolve with their results');
  t.equal(peer.sent.length, 1, 'nothing drained is ever sent');
});

t.test('drain before the flush turn leaves nothing to send', async (t) => {
  const { scheduler, peer, queue, push } = setup();
  const outcomes = ['a', 'b'].map(push);
  queue.drain(new KvError('KV_ERR_SHUTTING_DOWN', 'closed'));
  scheduler.turn();
  await settle();
  t.equal(peer.sent.length, 0, 'the scheduled flush finds nothing');
  t.same(outcomes.map(codeOf), ['KV_ERR_SHUTTING_DOWN', 'KV_ERR_SHUTTING_DOWN']);
});

t.test('the default scheduler flushes once per event-loop turn', async (t: Test) => {
  const peer = new FakePeer();
  const queue = new PeerQueue('peer-1', { batchOpsMax: 100, inflightMax: 4, queueOpsMax: 1_000 }, peer.send);
  const first = [queue.push(get('a')), queue.push(get('b'))];
  await Promise.resolve();
  t.equal(peer.sent.length, 0, 'not within the turn (microtasks included)');
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.equal(peer.sent.length, 1);
  t.same(peer.keys(0), ['a', 'b']);
  peer.answer(0);
  t.same(await Promise.all(first), [{ ok: true }, { ok: true }]);
});

// ---- Regression tests (review of the transport and internal routes).

/** A put of `key` whose object holds one sibling per entry of `valueBytes`. */
function put(key: string, ...valueBytes: number[]): ReplicaOp {
  const object: VersionedObject = {
    clock: [{ id: 'a', counter: valueBytes.length, timestampMs: 1 }],
    siblings: valueBytes.map((bytes, i) => ({ dot: { id: 'a', counter: i + 1 }, deleted: false, value: new Uint8Array(bytes), contentType: 'text/plain', timestampMs: 1 })),
  };
  return { kind: 'put', key, object };
}

t.test('the estimated size of an op is its key bytes plus, per sibling, its value bytes and 64', async (t) => {
  t.equal(SIBLING_OVERHEAD_BYTES, 64);
  t.equal(estimateOpBytes(get('abc')), 3, 'a get: its key');
  t.equal(estimateOpBytes(get('é✓')), 5, 'UTF-8 bytes of the key');
  t.equal(estimateOpBytes(put('k', 100)), 1 + 100 + 64);
  t.equal(estimateOpBytes(put('k', 100, 0, 1_000)), 1 + 1_100 + 3 * 64, 'every sibling counts, tombstones too');
  t.equal(BATCH_BYTES_MAX_DEFAULT, 8 * 1024 * 1024, 'default batch bound: 8 MiB');
  t.equal(QUEUE_BYTES_MAX_DEFAULT, 256 * 1024 * 1024, 'default queue bound: 256 MiB');
});

t.test('batchBytesMax: a turn of big ops is split by bytes as well as by count; an op bigger than the bound travels alone', async (t) => {
  const { scheduler, peer, push, queue } = setup({ batchOpsMax: 100, inflightMax: 8, batchBytesMax: 1_000 });
  const outcomes = [
    track(queue.push(put('a', 400))), // 465
    track(queue.push(put('b', 400))), // 465: a + b = 930
    track(queue.push(put('c', 400))), // would make 1395: next batch
    track(queue.push(put('d', 5_000))), // alone: larger than the bound
    push('e'),
    push('f'),
  ];
  t.equal(queue.depthBytes, 3 * 465 + 5_065 + 2, 'the queue counts the estimated bytes waiting');
  scheduler.turn();
  t.same(peer.sent.map((_, i) => peer.keys(i)), [['a', 'b'], ['c'], ['d'], ['e', 'f']], 'split by bytes, in order, the big op alone');
  t.equal(queue.depthBytes, 0);
  for (let i = 0; i < peer.sent.length; i++) peer.answer(i);
  await settle();
  t.same(states(outcomes), outcomes.map(() => 'resolved'), 'every op answered');
});

t.test('batchBytesMax defaults to 8 MiB when the limits leave it out', async (t) => {
  const { scheduler, peer, queue } = setup({ batchOpsMax: 100, inflightMax: 8 });
  for (const key of ['a', 'b', 'c']) void queue.push(put(key, 3 * 1024 * 1024));
  scheduler.turn();
  t.same(peer.sent.map((_, i) => peer.keys(i)), [['a', 'b'], ['c']], '3 MiB + 3 MiB fit in 8 MiB, a third does not');
});

t.test('queueBytesMax: past it a new op is refused with KV_ERR_OVERLOADED; an op alone in an empty queue is always taken', async (t) => {
  const { scheduler, peer, queue } = setup({ batchOpsMax: 100, inflightMax: 1, queueBytesMax: 2_000 });
  const huge = track(queue.push(put('huge', 10_000)));
  t.equal(huge.state, 'pending', 'an op larger than the queue bound is accepted into an empty queue');
  scheduler.turn();
  t.same(peer.keys(0), ['huge'], 'and sent');
  const first = track(queue.push(put('a', 900))); // 965
  const second = track(queue.push(put('b', 900))); // 1930
  const refused = track(queue.push(put('c', 100))); // 2095 > 2000
  const small = track(queue.push(get('d'))); // 1931: still fits
  await settle();
  t.same(states([first, second, small]), ['pending', 'pending', 'pending']);
  t.equal(codeOf(refused), 'KV_ERR_OVERLOADED', 'the op that would pass the byte bound is refused');
  const details = refused.state === 'rejected' && refused.error instanceof KvError ? refused.error.details : {};
  t.same(details, { peer: 'peer-1', queuedBytes: 1_930, limit: 2_000 }, 'naming the peer, the bytes queued and the bound');
  t.equal(queue.depthBytes, 1_931, 'the refused op was not counted');
  peer.answer(0);
  await settle();
  t.same(peer.keys(1), ['a', 'b', 'd'], 'the waiting ops go out once the slot frees');
  t.equal(queue.depthBytes, 0, 'sent ops no longer count against the queue');
  t.equal(track(queue.push(put('c', 100))).state, 'pending', 'the refused op fits now');
  queue.drain(new KvError('KV_ERR_SHUTTING_DOWN', 'closed'));
  t.equal(queue.depthBytes, 0, 'drain empties the byte count too');
});

t.test('sendBatch throwing synchronously: that batch\'s ops are rejected with its error and the in-flight slot is freed', async (t) => {
  const scheduler = new ManualScheduler();
  const peer = new FakePeer();
  let calls = 0;
  const failure = new Error('encoder blew up');
  const send = (ops: ReplicaOp[]): Promise<ReplicaResult[]> => {
    calls++;
    if (calls === 1) throw failure;
    return peer.send(ops);
  };
  const queue = new PeerQueue('peer-1', { batchOpsMax: 2, inflightMax: 1, queueOpsMax: 100 }, send, scheduler.schedule);
  const first = ['a', 'b'].map((key) => track(queue.push(get(key))));
  const later = ['c'].map((key) => track(queue.push(get(key))));
  t.doesNotThrow(() => scheduler.turn(), 'the throw does not escape the flush');
  await settle();
  t.ok(first.every((o) => o.state === 'rejected' && o.error === failure), "the failed batch's ops reject with the thrown error");
  t.equal(peer.sent.length, 1, 'the slot was freed: the next batch went out');
  t.same(peer.keys(0), ['c']);
  peer.answer(0);
  await settle();
  t.same(states(later), ['resolved']);
});

t.test('sendBatch resolving with something that is not an array rejects the ops instead of leaving them pending', async (t) => {
  const scheduler = new ManualScheduler();
  const queue = new PeerQueue('peer-1', { batchOpsMax: 8, inflightMax: 1, queueOpsMax: 100 }, async () => undefined as unknown as ReplicaResult[], scheduler.schedule);
  const outcome = track(queue.push(get('a')));
  scheduler.turn();
  await settle();
  t.equal(codeOf(outcome), 'KV_ERR_PEER_UNREACHABLE');
});

t.test('gets of one key in one batch travel as one op and share its result, unless a write to the key comes between them', async (t) => {
  const scheduler = new ManualScheduler();
  const peer = new FakePeer();
  const queue = new PeerQueue('peer', { batchOpsMax: 1024, inflightMax: 1, queueOpsMax: 10_000 }, peer.send, scheduler.schedule);
  const object: VersionedObject = { clock: [{ id: 'w', counter: 1, timestampMs: 1 }], siblings: [{ dot: { id: 'w', counter: 1 }, deleted: false, value: new Uint8Array([1]), contentType: '', timestampMs: 1 }] };
  const hot = Array.from({ length: 300 }, () => queue.push({ kind: 'get', key: 'hot' }));
  const cold = queue.push({ kind: 'get', key: 'cold' });
  const put = queue.push({ kind: 'put', key: 'hot', object });
  const after = queue.push({ kind: 'get', key: 'hot' });
  scheduler.turn();
  t.same(peer.keys(0), ['hot', 'cold', 'hot', 'hot'], '303 ops sent as 4: one get before the put, the put, one get after it');
  t.same(peer.sent[0]!.ops.map((op) => op.kind), ['get', 'get', 'put', 'get']);
  peer.sent[0]!.resolve([{ ok: true, object }, { ok: true }, { ok: true }, { ok: false, code: 'KV_ERR_STORAGE', message: 'x' }]);
  const results = await Promise.all(hot);
  t.ok(results.every((r) => r.ok && r.object === object), 'all 300 hot reads got the one result');
  t.same(await cold, { ok: true });
  t.same(await put, { ok: true });
  t.same(await after, { ok: false, code: 'KV_ERR_STORAGE', message: 'x' }, 'the get after the put has its own result');
});
