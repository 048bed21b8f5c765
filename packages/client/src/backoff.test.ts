// update()'s backoff: uniform under a doubling bound, capped; waits end early on abort.
import t from 'tap';
import { BACKOFF_CAP_MS, abortable, backoffMs, sleep } from './backoff.js';

t.test('the delay is random below min(cap, base * 2^attempt)', async (t) => {
  const rows: Array<[number, number, number]> = [
    // attempt, random, expected ms
    [0, 0, 0],
    [0, 0.999, 9],
    [1, 0.5, 10],
    [3, 0.999, 79],
    [10, 0.999, BACKOFF_CAP_MS - 1],
    [50, 0.5, BACKOFF_CAP_MS / 2],
  ];
  for (const [attempt, random, expected] of rows) t.equal(backoffMs(attempt, () => random), expected, `attempt ${attempt}, random ${random}`);
});

t.test('sleep and abortable reject with a RingkvAbortError when the signal fires', async (t) => {
  await t.rejects(sleep(10, AbortSignal.abort(), 'wait'), { name: 'AbortError', code: 'KV_ERR_ABORTED' });
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal, 'wait');
  controller.abort(new Error('stop'));
  await t.rejects(waiting, { code: 'KV_ERR_ABORTED', cause: { message: 'stop' } });
  await sleep(1, new AbortController().signal, 'wait');
  const never = new Promise<never>(() => {});
  const ending = new AbortController();
  const raced = abortable(never, ending.signal, 'fetch');
  ending.abort();
  await t.rejects(raced, { code: 'KV_ERR_ABORTED' });
  t.equal(await abortable(Promise.resolve(7), new AbortController().signal, 'fetch'), 7);
});
