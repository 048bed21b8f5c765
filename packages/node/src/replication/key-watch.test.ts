// KeyWatchService on manual timers and a scripted read (docs/watch.md): what "changed" means,
// watchers of one key share their reads, a wake during a read reads again, the poll runs only
// while someone watches, a failed first read fails the watch, and close() ends every watch.
import t from 'tap';
import { KvError } from '../errors.js';
import type { VersionedObject } from '../core/versioned.js';
import type { VersionVector } from '../core/clock.js';
import { changedSince, pollDelayMs } from '../core/watch-change.js';
import { KeyWatchers } from '../storage/key-watchers.js';
import type { Timers } from '../timers.js';
import { KeyWatchService } from './key-watch.js';

const object = (...entries: Array<[string, number]>): VersionedObject => ({
  clock: entries.map(([id, counter]) => ({ id, counter, timestampMs: 0 })),
  siblings: [],
});
const context = (...entries: Array<[string, number]>): VersionVector => entries.map(([id, counter]) => ({ id, counter }));

t.test('changedSince: a write the context has not seen; a context from the future is not a change', async (t) => {
  const cases: Array<[VersionedObject | undefined, VersionVector, boolean, string]> = [
    [undefined, context(), false, 'nothing exists'],
    [object(['a', 1]), context(), true, 'anything is new to an empty context'],
    [object(['a', 1]), context(['a', 1]), false, 'covered'],
    [object(['a', 2]), context(['a', 1]), true, 'a later write by the same actor'],
    [object(['a', 1], ['b', 1]), context(['a', 1]), true, 'a concurrent write'],
    [object(['a', 1]), context(['a', 5], ['b', 2]), false, 'a context ahead of the state'],
  ];
  for (const [state, seen, expected, what] of cases) t.equal(changedSince(state, seen), expected, what);
  t.same([pollDelayMs(1_000, 0), pollDelayMs(1_000, 0.5), pollDelayMs(1_000, 0.999)], [500, 1_000, 1_499], 'the poll jitter spans ±50 %');
});

/** Timers fired by hand, in order of due time. */
function manualTimers() {
  let now = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      due.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (handle) => void due.delete(handle as number),
    monotonicMs: () => now,
  };
  const advance = (ms: number) => {
    now += ms;
    for (const [id, timer] of [...due].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > now) continue;
      due.delete(id);
      timer.fn();
    }
  };
  return { timers, advance, pending: () => due.size };
}

/** A read that answers what `state` holds when called, after the test releases it. */
function scriptedKv() {
  let state: VersionedObject | undefined;
  let fail: unknown;
  const inFlight: Array<() => void> = [];
  let reads = 0;
  const kv = {
    get: () => {
      reads++;
      const answer = state;
      const error = fail;
      return new Promise<VersionedObject | undefined>((resolve, reject) => inFlight.push(() => (error === undefined ? resolve(answer) : reject(error))));
    },
  };
  return {
    kv,
    set: (next: VersionedObject | undefined) => (state = next),
    failWith: (error: unknown) => (fail = error),
    reads: () => reads,
    /** Answers every read in flight and lets their continuations run. */
    release: async () => {
      for (const answer of inFlight.splice(0)) answer();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}

function service(overrides: { watchersMax?: number } = {}) {
  const clock = manualTimers();
  const store = scriptedKv();
  const commits = new KeyWatchers();
  const watch = new KeyWatchService({
    kv: store.kv,
    onCommit: (key, listener) => commits.watch(key, listener),
    timers: clock.timers,
    random: () => 0.5,
    watchersMax: overrides.watchersMax ?? 100,
    pollIntervalMs: 1_000,
    readTimeoutMs: 500,
  });
  return { ...clock, ...store, commits, watch };
}

t.test('watchers of one key share one read per wake, each judged by its own context', async (t) => {
  const s = service();
  s.set(object(['a', 1]));
  const behind = s.watch.watch({ key: 'k', r: 2, context: context(), timeoutMs: 10_000 });
  const current = Array.from({ length: 9 }, () => s.watch.watch({ key: 'k', r: 2, context: context(['a', 1]), timeoutMs: 10_000 }));
  t.equal(s.reads(), 1, 'ten watches, one read in flight');
  await s.release();
  t.same(await behind, { changed: true, object: object(['a', 1]) }, 'the empty context is answered at once');
  t.equal(s.reads(), 2, 'the watches that joined during the read read once more');
  await s.release();
  t.equal(s.watch.parked, 9);
  s.set(object(['a', 2]));
  s.commits.notify(['k', 'other']);
  s.commits.notify(['k']);
  await Promise.resolve();
  t.equal(s.reads(), 3, 'two commits in one turn: one read');
  await s.release();
  for (const outcome of await Promise.all(current)) t.same(outcome, { changed: true, object: object(['a', 2]) });
  t.equal(s.watch.parked, 0);
  t.equal(s.commits.size, 0, 'the group let go of the commit hook');
  t.equal(s.pending(), 0, 'no poll or timeout left behind');
});

t.test('a wake during a read reads again after it; the poll reads while nothing wakes', async (t) => {
  const s = service();
  s.set(object(['a', 1]));
  const watching = s.watch.watch({ key: 'k', r: 2, context: context(['a', 1]), timeoutMs: 10_000 });
  t.equal(s.reads(), 1);
  s.set(object(['a', 2]));
  s.commits.notify(['k']);
  await Promise.resolve();
  t.equal(s.reads(), 1, 'not while the first read is in flight');
  s.set(object(['a', 1]));
  await s.release(); // the first read began before the commit: it saw a1
  t.equal(s.reads(), 2, 'read again for the commit that came during it');
  await s.release();
  t.equal(s.watch.parked, 1, 'still nothing new');
  s.set(object(['a', 3])); // a write this node's store never committed
  s.advance(999);
  t.equal(s.reads(), 2, 'the poll waits its (jittered) interval');
  s.advance(1);
  t.equal(s.reads(), 3, 'the poll read');
  await s.release();
  t.same(await watching, { changed: true, object: object(['a', 3]) });
});

t.test('timeouts, aborts, the bound, failures and close', async (t) => {
  const s = service({ watchersMax: 2 });
  s.set(undefined);
  const timedOut = s.watch.watch({ key: 'k', r: 2, context: context(), timeoutMs: 300 });
  const abort = new AbortController();
  const aborted = s.watch.watch({ key: 'j', r: 2, context: context(), timeoutMs: 10_000, signal: abort.signal });
  await t.rejects(s.watch.watch({ key: 'x', r: 2, context: context(), timeoutMs: 10 }), { code: 'KV_ERR_TOO_MANY_WATCHERS' });
  await s.release();
  abort.abort();
  t.same(await aborted, { changed: false });
  t.equal(s.watch.parked, 1, 'the aborted watch freed its slot at once');
  s.advance(300);
  t.same(await timedOut, { changed: false }, 'nothing new by the timeout');
  s.failWith(new KvError('KV_ERR_QUORUM_UNMET', 'no quorum'));
  await t.rejects(Promise.all([s.watch.watch({ key: 'k', r: 2, context: context(), timeoutMs: 10_000 }), s.release()]), { code: 'KV_ERR_QUORUM_UNMET' }, 'a failed first read fails the watch');
  s.failWith(undefined);
  const parked = s.watch.watch({ key: 'k', r: 2, context: context(), timeoutMs: 10_000 });
  await s.release();
  s.watch.close();
  await t.rejects(parked, { code: 'KV_ERR_SHUTTING_DOWN' });
  await t.rejects(s.watch.watch({ key: 'k', r: 2, context: context(), timeoutMs: 10 }), { code: 'KV_ERR_SHUTTING_DOWN' });
  t.equal(s.watch.parked, 0);
});
