// Permanent removal and departed members in the seeded SWIM simulator (issue 19.5): a removed
// identity never becomes alive again, whether it restarts (a higher incarnation) or wakes from
// a long pause, and a member forgotten after it left is not brought back by a member that slept
// through its departure.
import t from 'tap';
import { SwimSim } from '@ringkv/node/testing';

const SEED = Number(process.env.SWIM_SEED ?? 1905);
const config = { leftRetainMs: 5_000 };

function selfRemovedEvents(sim: SwimSim): string[] {
  const seen: string[] = [];
  sim.listeners.push((observer, event) => {
    if (event.kind === 'self-removed') seen.push(observer);
  });
  return seen;
}

t.test('a removed member that restarts is refused by every member and stops itself', async (t) => {
  const sim = new SwimSim({ seed: SEED, config });
  const ids = sim.bootstrap(6);
  const selfRemoved = selfRemovedEvents(sim);
  sim.crash('m5');
  const others = ids.filter((id) => id !== 'm5');
  t.ok(sim.runUntil(() => others.every((id) => sim.status(id, 'm5') === 'dead'), 60_000), 'declared dead first');
  sim.remove('m0', 'm5');
  t.ok(sim.runUntil(() => others.every((id) => sim.status(id, 'm5') === 'left'), 30_000), 'the removal reaches everyone');
  sim.run(config.leftRetainMs + 5_000); // forgotten from the member table (but not as removed)
  t.ok(others.every((id) => sim.status(id, 'm5') === undefined), 'forgotten from the table');
  t.ok(others.every((id) => sim.swim(id).isRemoved('m5')), 'still known as removed');
  sim.restart('m5', ['m1']); // its new incarnation is its start time, above every earlier one
  sim.run(30_000);
  t.ok(others.every((id) => sim.status(id, 'm5') !== 'alive'), 'nobody takes it back');
  t.same(selfRemoved, ['m5'], 'the restarted member learned it was removed');
});

t.test('a removed member that wakes from a long pause cannot rejoin through its gossip', async (t) => {
  const sim = new SwimSim({ seed: SEED + 1, config });
  const ids = sim.bootstrap(6);
  const selfRemoved = selfRemovedEvents(sim);
  sim.pause('m4');
  const others = ids.filter((id) => id !== 'm4');
  t.ok(sim.runUntil(() => others.every((id) => sim.status(id, 'm4') === 'dead'), 60_000), 'declared dead');
  sim.remove('m1', 'm4');
  sim.run(config.leftRetainMs + 10_000);
  sim.resume('m4');
  sim.run(30_000);
  t.ok(others.every((id) => sim.status(id, 'm4') !== 'alive'), 'the zombie stays out');
  t.same(selfRemoved, ['m4'], 'and learned it was removed');
});

t.test('a member forgotten after it left is not revived by one that slept through its leave', async (t) => {
  const sim = new SwimSim({ seed: SEED + 2, config });
  const ids = sim.bootstrap(6);
  sim.pause('m2');
  sim.leave('m3');
  const awake = ids.filter((id) => id !== 'm2' && id !== 'm3');
  t.ok(sim.runUntil(() => awake.every((id) => sim.status(id, 'm3') === 'left'), 30_000), 'the leave is known');
  sim.crash('m3');
  sim.run(config.leftRetainMs + 5_000);
  t.ok(awake.every((id) => sim.status(id, 'm3') === undefined), 'forgotten');
  sim.resume('m2'); // still believes m3 alive, and says so in push/pull
  sim.run(30_000);
  t.ok(awake.every((id) => sim.status(id, 'm3') === undefined), 'not brought back by the sleeper');
  // A new life of m3 (a restart with a fresh incarnation) may rejoin: leaving is not removal.
  sim.restart('m3', ['m0']);
  t.ok(sim.runUntil(() => awake.every((id) => sim.status(id, 'm3') === 'alive'), 30_000), 'a restarted m3 rejoins');
});
