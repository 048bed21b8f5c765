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

t.test('the replica deadline adapts to the peer (RFC 6298) between the floor and ten floors', async (t) => {
  const health = new PeerHealth();
  t.equal(health.deadlineMs('b', 500), 2_000, 'never measured: four floors (a first request also connects)');
  for (let i = 0; i < 20; i++) health.answered('b', i, 5);
  t.equal(health.deadlineMs('b', 500), 500, 'a fast peer: the floor');
  for (let i = 0; i < 40; i++) health.answered('b', 100 + i, 900 + (i % 2) * 400);
  const loaded = health.deadlineMs('b', 500);
  t.ok(loaded > 1_100 && loaded <= 5_000, `a peer a loaded machine slows to ~1.1 s gets more time (${loaded} ms)`);
  for (let i = 0; i < 40; i++) health.answered('b', 200 + i, 60_000);
  t.equal(health.deadlineMs('b', 500), 5_000, 'capped at ten floors');
  t.equal(health.silent('b', 150, 10_000), false, 'heard from since: busy, not silent');
  t.equal(health.silent('b', 300, 10_000), true, 'nothing heard since: silent');
});
