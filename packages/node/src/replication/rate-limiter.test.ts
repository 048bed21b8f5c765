import t from 'tap';
import { RateLimiter } from './rate-limiter.js';

t.test('a token bucket allows a second of burst, then perSecond', async (t) => {
  let now = 0;
  const limiter = new RateLimiter(100, () => now, async () => {});
  t.equal(limiter.tryTake(100), 0, 'the first second is banked');
  t.equal(limiter.tryTake(10), 100, '10 more tokens need 100 ms');
  now += 50;
  t.equal(limiter.tryTake(10), 50, 'half of them have come after 50 ms');
  now += 50;
  t.equal(limiter.tryTake(10), 0, 'all of them after 100 ms');
  now += 10_000;
  t.equal(limiter.tryTake(100), 0, 'idle time banks at most one second');
  t.equal(limiter.tryTake(1), 10);
});

t.test('take() sleeps exactly as long as the bucket needs', async (t) => {
  let now = 0;
  const slept: number[] = [];
  const limiter = new RateLimiter(1_000, () => now, async (ms) => {
    slept.push(ms);
    now += ms;
  });
  for (let i = 0; i < 5; i++) await limiter.take(500);
  t.same(slept, [500, 500, 500], 'after the banked second, 500 tokens every 500 ms');
  t.equal(now, 1_500, '2,500 tokens took 1.5 s of simulated time');
});
