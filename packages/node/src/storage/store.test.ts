// GroupCommitQueue with an injected scheduler: the test decides when a batch is flushed.
import t from 'tap';
import { GroupCommitQueue, type Scheduler } from './store.js';
import type { VersionedObject } from '../core/versioned.js';

/** A distinguishable object per label (the queue never looks inside). */
const obj = (label: string): VersionedObject => ({
  clock: [{ id: label, counter: 1, timestampMs: 0 }],
  siblings: [{ dot: { id: label, counter: 1 }, deleted: false, value: new TextEncoder().encode(label), contentType: 'text/plain', timestampMs: 0 }],
});

interface Harness {
  queue: GroupCommitQueue;
  /** Flush callbacks handed to the scheduler, in order. */
  scheduled: (() => void)[];
  /** Every batch passed to commit, as [key, label] pairs. */
  batches: [string, string][][];
  /** Makes the next commit throw this error. */
  failNext(error: unknown): void;
}

function harness(): Harness {
  const scheduled: (() => void)[] = [];
  const batches: [string, string][][] = [];
  let failure: { error: unknown } | undefined;
  const schedule: Scheduler = (flush) => void scheduled.push(flush);
  const queue = new GroupCommitQueue((batch) => {
    batches.push([...batch.objects].map(([key, object]) => [key, object.clock[0]!.id]));
    if (failure) {
      const { error } = failure;
      failure = undefined;
      throw error;
    }
  }, schedule);
  return { queue, scheduled, batches, failNext: (error) => void (failure = { error }) };
}

/** Settles-state of a promise, observed without waiting for a macrotask. */
function track(promise: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const status: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  promise.then(
    () => void (status.state = 'resolved'),
    (error: unknown) => void Object.assign(status, { state: 'rejected', error }),
  );
  return status;
}

const microtasks = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

t.test('writes of one turn are one batch: one schedule, one commit, every waiter resolved', async (t) => {
  const h = harness();
  const promises = ['a', 'b', 'c'].map((key) => h.queue.enqueue(key, obj(key)));
  const states = promises.map(track);
  t.equal(h.scheduled.length, 1, 'the flush is scheduled once for the batch');
  t.equal(h.batches.length, 0, 'nothing committed before the flush');
  t.equal(h.queue.peek('b')?.clock[0]?.id, 'b', 'peek sees a queued write');
  t.equal(h.queue.peek('zzz'), undefined);
  await microtasks();
  t.same(states.map((s) => s.state), ['pending', 'pending', 'pending'], 'no waiter resolves before its commit');

  h.scheduled[0]!();
  t.same(h.batches, [[['a', 'a'], ['b', 'b'], ['c', 'c']]], 'one commit with all three writes');
  await Promise.all(promises);
  t.same(states.map((s) => s.state), ['resolved', 'resolved', 'resolved']);
  t.equal(h.queue.peek('b'), undefined, 'committed writes leave the queue');
  t.same(h.queue.stats(), { commits: 1, writes: 3, failedCommits: 0 });
});

t.test('a key written twice in one batch is committed once, with the second value', async (t) => {
  const h = harness();
  const first = h.queue.enqueue('k', obj('first'));
  const second = h.queue.enqueue('k', obj('second'));
  t.equal(h.queue.peek('k')?.clock[0]?.id, 'second', 'peek shows the latest queued value');
  h.scheduled[0]!();
  await Promise.all([first, second]);
  t.same(h.batches, [[['k', 'second']]]);
  t.same(h.queue.stats(), { commits: 1, writes: 1, failedCommits: 0 });
});

t.test('each flushed batch schedules the next; a stale scheduled flush is harmless', async (t) => {
  const h = harness();
  const p1 = h.queue.enqueue('a', obj('a'));
  h.queue.flush(); // flushed by hand (as close() does) before the scheduler ran it
  await p1;
  t.equal(h.batches.length, 1);
  h.scheduled[0]!(); // the scheduler's call arrives late: nothing to do
  t.equal(h.batches.length, 1, 'an empty flush commits nothing');
  t.same(h.queue.stats(), { commits: 1, writes: 1, failedCommits: 0 }, 'an empty flush is not a commit');

  const p2 = h.queue.enqueue('b', obj('b'));
  t.equal(h.scheduled.length, 2, 'a write after a flush schedules a new one');
  h.queue.enqueue('c', obj('c')).catch(() => {});
  t.equal(h.scheduled.length, 2, 'but only once per batch');
  h.scheduled[1]!();
  await p2;
  t.same(h.batches, [[['a', 'a']], [['b', 'b'], ['c', 'c']]]);
  t.same(h.queue.stats(), { commits: 2, writes: 3, failedCommits: 0 });
});

t.test('a commit that throws rejects every waiter of its batch, drops its writes, and later batches still work', async (t) => {
  const h = harness();
  await (async () => {
    const p = h.queue.enqueue('before', obj('before'));
    h.scheduled[0]!();
    await p;
  })();

  const boom = Object.assign(new Error('disk on fire'), { code: 'KV_ERR_STORAGE' });
  h.failNext(boom);
  const failing = [h.queue.enqueue('a', obj('a1')), h.queue.enqueue('b', obj('b1')), h.queue.enqueue('a', obj('a2'))];
  const states = failing.map(track);
  t.equal(h.queue.peek('a')?.clock[0]?.id, 'a2');
  t.doesNotThrow(() => h.scheduled[1]!(), 'the flush itself does not throw: the error goes to the waiters');
  for (const [i, p] of failing.entries()) {
    await t.rejects(p, { message: 'disk on fire', code: 'KV_ERR_STORAGE' }, `waiter ${i} rejected`);
  }
  t.ok(states.every((s) => s.error === boom), 'every waiter gets the very error the commit threw');
  t.equal(h.queue.peek('a'), undefined, 'a failed write is no longer visible');
  t.equal(h.queue.peek('b'), undefined, 'a failed write is no longer visible');
  t.same(h.queue.stats(), { commits: 1, writes: 1, failedCommits: 1 });

  const later = h.queue.enqueue('c', obj('c'));
  t.equal(h.scheduled.length, 3, 'the next write schedules a flush again');
  h.scheduled[2]!();
  await t.resolves(later);
  t.same(h.batches.at(-1), [['c', 'c']], 'the next batch carries only its own writes, not the failed ones');
  t.same(h.queue.stats(), { commits: 2, writes: 2, failedCommits: 1 });
});

t.test('stats are snapshots and count commits, writes and failed commits', async (t) => {
  const h = harness();
  const zero = h.queue.stats();
  t.same(zero, { commits: 0, writes: 0, failedCommits: 0 });
  for (let batch = 0; batch < 4; batch++) {
    if (batch === 2) h.failNext(new Error('x'));
    const ps = Array.from({ length: batch + 1 }, (_, i) => h.queue.enqueue(`k${i}`, obj(`v${i}`)).catch(() => 'failed'));
    h.queue.flush();
    await Promise.all(ps);
  }
  // Batches of 1, 2, (3 failed), 4 writes.
  t.same(h.queue.stats(), { commits: 3, writes: 7, failedCommits: 1 });
  t.same(zero, { commits: 0, writes: 0, failedCommits: 0 }, 'an earlier snapshot does not change');
});

t.test('close flushes what is queued and refuses later writes', async (t) => {
  const h = harness();
  const queued = track(h.queue.enqueue('a', obj('a')));
  h.queue.close();
  t.same(h.batches, [[['a', 'a']]], 'close committed the queued write');
  await microtasks();
  t.equal(queued.state, 'resolved');
  await t.rejects(h.queue.enqueue('b', obj('b')), Error, 'a write after close rejects');
  t.equal(h.queue.peek('b'), undefined, 'and is not visible');
  t.equal(h.scheduled.length, 1, 'and schedules nothing');
  t.doesNotThrow(() => h.queue.close(), 'close again is harmless');
  t.same(h.queue.stats(), { commits: 1, writes: 1, failedCommits: 0 });
});

t.test('the default scheduler flushes on the next turn (setImmediate)', async (t) => {
  const batches: number[] = [];
  const queue = new GroupCommitQueue((batch) => void batches.push(batch.objects.size));
  const ps = [queue.enqueue('a', obj('a')), queue.enqueue('b', obj('b'))];
  t.same(batches, []);
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.same(batches, [2], 'committed as one batch by the following turn');
  await Promise.all(ps);
});

t.test('issue 19.9: committed(key) says whether what a read saw was committed (read repair waits for it)', async (t) => {
  const h = harness();
  t.equal(await h.queue.committed('nothing queued'), true, 'nothing queued: at once');
  const first = h.queue.enqueue('a', obj('a'));
  const ok = h.queue.committed('a');
  h.scheduled[0]!();
  await first;
  t.equal(await ok, true, 'the batch committed');
  const failing = h.queue.enqueue('b', obj('b')).catch(() => undefined);
  const bad = h.queue.committed('b');
  h.failNext(new Error('disk full'));
  h.scheduled[1]!();
  await failing;
  t.equal(await bad, false, 'the batch failed: a repair must not spread it');
});

t.test('settled (a merge that writes nothing): waits for the fsync under way, never asks for one', async (t) => {
  const scheduled: (() => void)[] = [];
  const syncs: Array<() => void> = [];
  const durable = () => new Promise<void>((resolve) => void syncs.push(resolve));
  const queue = new GroupCommitQueue(() => undefined, (flush) => void scheduled.push(flush), durable);
  await t.resolves(queue.settled(), 'nothing committed: at once');
  t.equal(syncs.length, 0, 'and no fsync asked for');
  const write = track(queue.enqueue('a', obj('a')));
  scheduled.shift()!();
  t.equal(syncs.length, 1, 'the commit asked for its fsync');
  const settled = track(queue.settled());
  await microtasks();
  t.equal(settled.state, 'pending', 'committed but not yet durable: the no-op waits');
  t.equal(syncs.length, 1, 'without asking for another fsync');
  syncs.shift()!();
  await microtasks();
  t.same([write.state, settled.state], ['resolved', 'resolved'], 'both acknowledged with that fsync');
  await t.resolves(queue.settled(), 'durable now: at once');
  t.equal(syncs.length, 0, 'still no fsync of its own');
  queue.close();
  await t.rejects(queue.settled(), { code: 'KV_ERR_SHUTTING_DOWN' }, 'a closed store acknowledges nothing');
});
