// SWIM + Lifeguard in the seeded simulator (issue 4's simulation acceptance). Each scenario
// prints its seed; rerun one with the same seed to replay it exactly.
import t from 'tap';
import { SwimSim, disseminate } from '@ringkv/node/testing';

const SEED = Number(process.env.SWIM_SEED ?? 42);

/** Records every member declared dead, by whom and when. */
function watchDeaths(sim: SwimSim): Array<{ observer: string; target: string; atMs: number }> {
  const deaths: Array<{ observer: string; target: string; atMs: number }> = [];
  sim.listeners.push((observer, event, atMs) => {
    if (event.kind === 'update' && event.member.status === 'dead') deaths.push({ observer, target: event.member.id, atMs });
  });
  return deaths;
}

t.test('50 members, 5 % loss: a crashed member is declared dead by every survivor, and nobody else ever is', async (t) => {
  t.comment(`seed ${SEED}`);
  const sim = new SwimSim({ seed: SEED, lossRate: 0.05 });
  const ids = sim.bootstrap(50);
  const deaths = watchDeaths(sim);
  sim.run(10_000);
  const victim = 'm17';
  const crashedAt = sim.nowMs;
  sim.crash(victim);
  const survivors = ids.filter((id) => id !== victim);
  const allKnow = sim.runUntil(() => survivors.every((id) => sim.status(id, victim) === 'dead'), 60_000);
  t.ok(allKnow, 'every survivor marks the crashed member dead');
  const firstDeath = Math.min(...deaths.filter((d) => d.target === victim).map((d) => d.atMs));
  const lastLearned = Math.max(...survivors.map((id) => Math.max(...deaths.filter((d) => d.target === victim && d.observer === id).map((d) => d.atMs))));
  t.comment(`detected after ${((firstDeath - crashedAt) / 1000).toFixed(2)} s; known to all ${((lastLearned - crashedAt) / 1000).toFixed(2)} s after the crash; dissemination of the death took ${lastLearned - firstDeath} ms`);
  t.ok(lastLearned - firstDeath <= 2_000, 'the death notice reached every survivor within 2 s of the first declaration (stated bound)');
  sim.run(60_000);
  t.same(deaths.filter((d) => d.target !== victim), [], 'no healthy member was ever declared dead');
});

t.test('a 2-way partition of 20 members for 60 s heals into one view without an operator', async (t) => {
  const sim = new SwimSim({ seed: SEED + 1, lossRate: 0.01 });
  const ids = sim.bootstrap(20);
  const left = ids.slice(0, 10);
  const right = ids.slice(10);
  sim.partition(left, right);
  sim.run(60_000);
  t.ok(left.every((a) => right.every((b) => sim.status(a, b) === 'dead')), 'each side declared the other dead during the partition');
  sim.heal();
  const healedAt = sim.nowMs;
  const healed = sim.runUntil(() => ids.every((a) => ids.every((b) => sim.status(a, b) === 'alive')), 60_000);
  t.ok(healed, 'everyone sees everyone alive again');
  t.comment(`one view ${((sim.nowMs - healedAt) / 1000).toFixed(2)} s after the partition ended`);
});

t.test('a restarted member is alive everywhere within 2 probe periods', async (t) => {
  const sim = new SwimSim({ seed: SEED + 2 });
  const ids = sim.bootstrap(20);
  sim.crash('m5');
  t.ok(sim.runUntil(() => ids.filter((id) => id !== 'm5').every((id) => sim.status(id, 'm5') === 'dead'), 60_000), 'declared dead first');
  sim.run(5_000); // stale death notices are still around
  sim.restart('m5', ['m0']);
  const restartedAt = sim.nowMs;
  const alive = sim.runUntil(() => ids.every((id) => sim.status(id, 'm5') === 'alive'), 2 * sim.config.probeIntervalMs);
  t.ok(alive, `alive everywhere within ${2 * sim.config.probeIntervalMs} ms`);
  t.comment(`alive everywhere ${sim.nowMs - restartedAt} ms after the restart`);
});

t.test('a member paused shorter than its suspicion timeout refutes and is never declared dead', async (t) => {
  const sim = new SwimSim({ seed: SEED + 3, lossRate: 0.01 });
  sim.bootstrap(10);
  const deaths = watchDeaths(sim);
  let refutations = 0;
  sim.listeners.push((observer, event) => {
    if (observer === 'm3' && event.kind === 'refute') refutations++;
  });
  for (let round = 0; round < 10; round++) {
    sim.pause('m3');
    sim.run(300 + Math.floor(sim.random() * 1200)); // 0.3-1.5 s stalls
    sim.resume('m3');
    sim.run(5_000);
  }
  t.same(deaths, [], 'no false death');
  t.comment(`m3 refuted ${refutations} suspicion(s)`);
});

t.test('graceful leave: members record the node as left, not dead', async (t) => {
  const sim = new SwimSim({ seed: SEED + 4 });
  const ids = sim.bootstrap(10);
  const deaths = watchDeaths(sim);
  const swim = sim.swim('m4');
  // The leaving node's own output goes through the simulated network like any other.
  (sim as unknown as { dispatch(id: string, out: unknown): void }).dispatch('m4', swim.leave(sim.nowMs));
  sim.run(1_000);
  sim.crash('m4');
  const others = ids.filter((id) => id !== 'm4');
  t.ok(sim.runUntil(() => others.every((id) => sim.status(id, 'm4') === 'left'), 10_000), 'everyone sees m4 as left');
  sim.run(30_000);
  t.same(deaths, [], 'a departed member is never declared dead');
});

t.test('issue 16.3: a draining member is dead to every peer within a second, is not refuted, and a restart brings it back', async (t) => {
  const sim = new SwimSim({ seed: SEED + 6, lossRate: 0.01 });
  const ids = sim.bootstrap(10);
  const refutes: string[] = [];
  sim.listeners.push((observer, event) => {
    if (event.kind === 'refute') refutes.push(observer);
  });
  const started = sim.nowMs;
  sim.depart('m3');
  const others = ids.filter((id) => id !== 'm3');
  t.ok(sim.runUntil(() => others.every((id) => sim.status(id, 'm3') === 'dead'), 1_000), 'every peer marks it dead within a second, by direct notice');
  t.comment(`all peers knew after ${sim.nowMs - started} ms`);
  // It keeps running (serving what was already routed to it) and hears its own death: no refute.
  sim.run(10_000);
  t.same(refutes, [], 'the draining member does not refute its own notice');
  t.ok(others.every((id) => sim.status(id, 'm3') === 'dead'), 'still dead to all: it keeps its ring place as a dead member, not left');
  sim.crash('m3');
  sim.run(1_000);
  sim.restart('m3', ['m0']);
  t.ok(sim.runUntil(() => others.every((id) => sim.status(id, 'm3') === 'alive'), 10_000), 'restarted with a new incarnation, alive to every peer');
});

t.test('1,000 members: idle traffic per member and dissemination time with 1 % loss', async (t) => {
  const started = performance.now();
  const sim = new SwimSim({ seed: SEED + 5, lossRate: 0, tickMs: 50 });
  const ids = sim.converged(1000);
  sim.run(5_000);
  /** Datagrams sent per member per second over the next `ms`. */
  const idleRate = (ms: number): number => {
    const before = new Map(sim.datagramsSent);
    sim.run(ms);
    let sent = 0;
    for (const id of ids) sent += (sim.datagramsSent.get(id) ?? 0) - (before.get(id) ?? 0);
    return sent / ids.length / (ms / 1000);
  };
  const lossless = idleRate(8_000); // a whole number of 800 ms periods
  t.comment(`1,000 members idle, no loss: ${lossless.toFixed(2)} datagrams per member per second`);
  t.ok(lossless <= 2.5 + 0.05, 'without loss, idle traffic is one ping and one ack per 800 ms period (2.5/s)');
  sim.setLossRate(0.01);
  const lossy = idleRate(8_000);
  t.comment(`1,000 members idle, 1 % loss: ${lossy.toFixed(2)} datagrams per member per second (indirect probes after lost datagrams)`);
  t.ok(lossy <= 3, 'with 1 % loss, idle traffic stays near 2 datagrams per probe period');
  // Dissemination: a restarted member's new incarnation must reach everyone.
  sim.crash('m500');
  sim.restart('m500', ['m0']);
  const restartedAt = sim.nowMs;
  const reached = sim.runUntil(() => ids.every((id) => sim.status(id, 'm500') === 'alive' && sim.swim(id).member('m500')!.incarnation === sim.swim('m500').currentIncarnation), 10_000);
  t.ok(reached, 'the update reached all 1,000 members');
  const machineMs = sim.nowMs - restartedAt;
  t.comment(`dissemination to 1,000 members: ${machineMs} ms; simulated ${(sim.nowMs / 1000).toFixed(0)} s in ${((performance.now() - started) / 1000).toFixed(1)} s of CPU`);
  // The dissemination-only model (used for 10,000 below) must agree with the full machine here.
  const model = disseminate({ seed: SEED + 5, members: 1000, lossRate: 0.01, tickMs: 50 });
  t.comment(`dissemination-only model, 1,000 members: ${model.reachedAllMs?.toFixed(0)} ms`);
  t.ok(model.reachedAllMs !== undefined && model.reachedAllMs >= machineMs / 2 && model.reachedAllMs <= machineMs * 2, 'the model is within 2x of the full machine at 1,000 members');
});

t.test('10,000 members, 1 % loss: an update reaches everyone within 2 s (dissemination-only model)', async (t) => {
  const times: number[] = [];
  for (let trial = 0; trial < 10; trial++) {
    const result = disseminate({ seed: SEED + 100 + trial, members: 10_000, lossRate: 0.01 });
    t.equal(result.reached, 10_000, `seed ${SEED + 100 + trial}: every member learned the update`);
    times.push(result.reachedAllMs ?? Infinity);
  }
  times.sort((a, b) => a - b);
  t.comment(`time to reach all 10,000, 10 seeds: median ${times[5]!.toFixed(0)} ms, max ${times[9]!.toFixed(0)} ms`);
  t.ok(times[9]! <= 2_000, 'the slowest of 10 runs reached all 10,000 members within 2 s');
});
