import t from 'tap';
import { ProbeSchedule } from './probe-schedule.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `node${i}`);

t.test('while views agree, every member is probed by exactly one other in every period', async (t) => {
  for (const n of [2, 3, 10, 37]) {
    const live = ids(n);
    const schedules = new Map(live.map((id) => [id, new ProbeSchedule()]));
    for (let period = 1_000; period < 1_000 + 3 * n; period++) {
      const probed = live.map((id) => schedules.get(id)!.target(id, live, period)!);
      t.ok(probed.every((target, i) => target !== live[i]), `n=${n} period ${period}: nobody probes itself`);
      t.equal(new Set(probed).size, n, `n=${n} period ${period}: each member probed once`);
    }
  }
});

t.test('each member visits every other exactly once per round, in an order that changes', async (t) => {
  const live = ids(10);
  const schedule = new ProbeSchedule();
  const rounds: string[][] = [];
  for (let round = 5; round < 8; round++) {
    const visited = Array.from({ length: 9 }, (_, k) => schedule.target('node3', live, round * 9 + k)!);
    t.same([...visited].sort(), live.filter((id) => id !== 'node3').sort(), `round ${round} visits all 9 others once`);
    rounds.push(visited);
  }
  t.not(rounds[0]!.join(), rounds[1]!.join(), 'the order is reshuffled between rounds');
});

t.test('no target for a member alone or not in the view', async (t) => {
  const schedule = new ProbeSchedule();
  t.equal(schedule.target('a', ['a'], 7), undefined);
  t.equal(schedule.target('x', ['a', 'b'], 7), undefined);
});
