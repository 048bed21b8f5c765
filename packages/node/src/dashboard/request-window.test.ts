// The dashboard's rolling window (request-window.ts): rates per slot, percentiles within a
// bucket's width, old slots forgotten as the clock moves, bounded memory whatever comes in.
import t from 'tap';
import { bucketOf, LATENCY_BOUNDS, RequestWindow } from './request-window.js';

function windowAt(startMs: number, slotMs = 1_000, slots = 10) {
  const clock = { ms: startMs };
  return { clock, window: new RequestWindow({ slotMs, slots, nowMs: () => clock.ms }) };
}

t.test('bucket bounds: each latency falls in the first bucket at least as long', async (t) => {
  for (const seconds of [0, 0.00001, 0.00005, 0.0001, 0.001, 0.0123, 0.5, 3, 60, 120]) {
    const i = bucketOf(seconds);
    t.ok(LATENCY_BOUNDS[i]! >= seconds, `${seconds} s fits under bucket ${i}`);
    if (i > 0) t.ok(LATENCY_BOUNDS[i - 1]! < seconds, `${seconds} s is above bucket ${i - 1}`);
  }
  t.equal(bucketOf(1e6), LATENCY_BOUNDS.length, 'past the last bound: the overflow bucket');
  t.equal(bucketOf(Number.NaN), 0, 'NaN does not break the histogram');
  t.equal(bucketOf(-1), 0);
});

t.test('per-slot rates, errors and percentiles', async (t) => {
  const { clock, window } = windowAt(100_000);
  for (let i = 0; i < 99; i++) window.record('get', 200, 0.002);
  window.record('put', 503, 0.4);
  clock.ms += 1_000;
  for (let i = 0; i < 10; i++) window.record('put', 204, 0.01);
  clock.ms += 500; // half-way through the current slot
  const series = window.series();
  t.equal(series.length, 10, 'one point per slot');
  const [previous, current] = series.slice(-2);
  t.equal(previous!.startMs, 100_000);
  t.equal(previous!.requests, 100);
  t.equal(previous!.errors, 1, 'a 503 is an error, a 200 is not');
  t.equal(previous!.perSecond, 100);
  t.ok(previous!.p50Ms! >= 2 && previous!.p50Ms! <= 2.5, `p50 ${previous!.p50Ms} ms is 2 ms within a bucket`);
  t.ok(previous!.p99Ms! >= 2 && previous!.p99Ms! <= 2.5, 'p99 is the 99th of 100: still 2 ms');
  t.equal(current!.requests, 10);
  t.equal(current!.perSecond, 10, 'the current slot: its count over at least one second');
  t.ok(current!.p50Ms! >= 10 && current!.p50Ms! <= 12.5);
  t.equal(series[0]!.requests, 0, 'slots without requests are zero');
  t.equal(series[0]!.p50Ms, null, 'and have no percentile');
  const totals = window.totals();
  t.equal(totals.requests, 110);
  t.equal(totals.errors, 1);
  t.same(totals.byOp, { get: 99, put: 11 });
  t.ok(totals.p99Ms! >= 10 && totals.p99Ms! <= 12.5, `p99 ${totals.p99Ms} ms over the whole window`);
  t.equal(totals.windowMs, 9_500, 'nine whole slots and half of the current one');
});

t.test('slots older than the window are forgotten, also after a long silence', async (t) => {
  const { clock, window } = windowAt(0);
  window.record('get', 200, 0.001);
  clock.ms = 9_999;
  t.equal(window.totals().requests, 1, 'still inside the 10 s window');
  clock.ms = 10_000;
  t.equal(window.totals().requests, 0, 'gone once its slot left the window');
  window.record('get', 200, 0.001);
  clock.ms = 3_600_000;
  t.equal(window.totals().requests, 0, 'an hour later: nothing, though the slot array was never rewritten');
  t.ok(window.series().every((p) => p.requests === 0));
});

t.test('a slot reused for a newer time starts empty', async (t) => {
  const { clock, window } = windowAt(0, 1_000, 3);
  window.record('get', 200, 5);
  clock.ms = 3_000; // the same array position as time 0
  window.record('delete', 204, 0.001);
  const totals = window.totals();
  t.equal(totals.requests, 1);
  t.same(totals.byOp, { delete: 1 });
  t.ok(totals.p99Ms! < 2, 'the 5 s request of the old slot is not in the percentiles');
});

t.test('unknown ops are counted as other; latency past every bound reports the last bound', async (t) => {
  const { window } = windowAt(0);
  window.record('patch', 405, 0.001);
  window.record('get', 504, 1e6);
  const totals = window.totals();
  t.same(totals.byOp, { other: 1, get: 1 });
  t.equal(totals.p99Ms, LATENCY_BOUNDS.at(-1)! * 1000);
});

t.test('construction refuses a window without slots', async (t) => {
  t.throws(() => new RequestWindow({ slotMs: 1_000, slots: 0, nowMs: () => 0 }));
  t.throws(() => new RequestWindow({ slotMs: 0, slots: 10, nowMs: () => 0 }));
});
