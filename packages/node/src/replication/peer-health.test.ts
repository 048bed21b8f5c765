import t from 'tap';
import { PEER_BACKOFF_MAX_MS, PEER_BACKOFF_MIN_MS, PeerHealth } from './peer-health.js';

t.test('a peer silent past a request deadline is avoided for the backoff, then tried again', async (t) => {
  const health = new PeerHealth();
  t.ok(health.usable('b', 0), 'unknown peers are usable');
  health.silent('b', 100, 600);
  t.notOk(health.usable('b', 600));
  t.notOk(health.usable('b', 600 + PEER_BACKOFF_MIN_MS - 1));
  t.ok(health.usable('b', 600 + PEER_BACKOFF_MIN_MS), 'half open after the backoff');
  t.equal(health.trips, 1);
});

t.test('a busy peer that answered other requests since is not tripped', async (t) => {
  const health = new PeerHealth();
  health.answered('b', 300);
  health.silent('b', 100, 600);
  t.ok(health.usable('b', 600), 'heard from at 300, after the silent request left at 100');
  health.silent('b', 400, 900);
  t.notOk(health.usable('b', 900), 'nothing heard since 400: tripped');
});

t.test('failures while half open double the backoff up to the cap; an answer clears it', async (t) => {
  const health = new PeerHealth();
  let now = 0;
  health.unreachable('b', now);
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    const down = health.snapshot(now).find((p) => p.id === 'b')!.downForMs;
    waits.push(down);
    now += down;
    t.ok(health.usable('b', now));
    health.unreachable('b', now);
  }
  t.same(waits.slice(0, 5), [1_000, 2_000, 4_000, 8_000, 16_000]);
  t.ok(waits.every((w) => w <= PEER_BACKOFF_MAX_MS), 'capped');
  health.unreachable('b', now + 1);
  t.equal(health.trips, 9, 'a failure while already avoided does not trip again');
  health.answered('b', now + 2);
  t.ok(health.usable('b', now + 2), 'an answer clears it');
  health.unreachable('b', now + 3);
  t.equal(health.snapshot(now + 3).find((p) => p.id === 'b')!.downForMs, PEER_BACKOFF_MIN_MS, 'backoff starts over');
});
