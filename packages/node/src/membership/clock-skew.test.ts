import t from 'tap';
import { ClockSkew, SKEW_WARN_MS } from './clock-skew.js';

t.test('the median of the peers decides: one bad peer does not make the others look wrong', async (t) => {
  const good = new ClockSkew();
  for (const [peer, delta] of [['b', 3], ['c', -2], ['d', 45_000], ['e', 1]] as const) good.observe(peer, 1_000_000 + delta, 1_000_000);
  t.match(good.estimate(1_000_000), { peers: 4 });
  t.ok(Math.abs(good.estimate(1_000_000).skewMs) < 100, 'a node with a right clock sees about 0');
  t.equal(good.estimate(1_000_000).warning, undefined);

  const ahead = new ClockSkew();
  for (const peer of ['a', 'b', 'c', 'e']) ahead.observe(peer, 1_000_000 - 45_000, 1_000_000);
  const estimate = ahead.estimate(1_000_000);
  t.equal(estimate.skewMs, 45_000, 'the node 45 s ahead sees +45 s');
  t.match(estimate.warning, /45\.0 s ahead of the ring's median clock \(4 peer/);
});

t.test('no peers, small skews and old samples give no warning', async (t) => {
  const skew = new ClockSkew();
  t.same(skew.estimate(0), { skewMs: 0, peers: 0 });
  skew.observe('b', 100 + 2 * SKEW_WARN_MS, 100);
  t.equal(skew.estimate(100).warning, undefined, 'one peer 10 s ahead: the median (5 s) is at the threshold, no warning');
  skew.observe('b', 100 - 120_000, 100);
  t.ok(skew.estimate(100).warning);
  t.same(skew.estimate(100 + 60_001), { skewMs: 0, peers: 0 }, 'a sample older than a minute is dropped');
  const fresh = new ClockSkew();
  fresh.observe('b', Number.NaN, 0);
  t.same(fresh.estimate(0), { skewMs: 0, peers: 0 }, 'a non-number sample is ignored');
});
