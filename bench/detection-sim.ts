/**
 * Failure detection in the seeded SWIM simulator: how long after a crash the median survivor
 * marks the crashed member dead, over many seeds, and when it was first suspected; also false
 * deaths and idle datagrams. Seconds of CPU per hundred trials, so detection settings can be
 * compared before the real-process bench (bench/detection-bench.ts) confirms one.
 *
 *   node_modules/.bin/tsx bench/detection-sim.ts [--nodes 10] [--trials 100] [--loss 0]
 *       [--config '{"probeTimeoutMs":200}']
 */
import { SwimSim } from '@ringkv/node/testing';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: tsx bench/detection-sim.ts [--nodes 10] [--trials 100] [--loss 0] [--config JSON]\n\nFailure detection in the seeded SWIM simulator: time until the median survivor marks a crashed member dead, first suspicion, false deaths and idle datagrams, over --trials seeds.`;

const { values } = benchArgs({
  options: {
    nodes: { type: 'string', default: '10' },
    trials: { type: 'string', default: '100' },
    loss: { type: 'string', default: '0' },
    config: { type: 'string', default: '{}' },
  },
}, USAGE);
const n = Number(values.nodes);
const trials = Number(values.trials);
const config = JSON.parse(values.config!) as Record<string, number>;

const detected: number[] = [];
const firstSuspected: number[] = [];
let falseDeaths = 0;
let datagrams = 0;
let memberSeconds = 0;
for (let trial = 0; trial < trials; trial++) {
  const sim = new SwimSim({ seed: 1000 + trial, lossRate: Number(values.loss), minDelayMs: 0.2, maxDelayMs: 2, tickMs: 10, config });
  const ids = sim.converged(n);
  sim.run(3_000 + Math.floor(sim.random() * 2_000));
  const sentBefore = [...sim.datagramsSent.values()].reduce((a, b) => a + b, 0);
  sim.run(5_000);
  datagrams += [...sim.datagramsSent.values()].reduce((a, b) => a + b, 0) - sentBefore;
  memberSeconds += 5 * n;
  const victim = ids[1 + (trial % (n - 1))]!;
  const deaths: Array<{ observer: string; id: string; atMs: number }> = [];
  let suspectedMs = Infinity;
  sim.listeners.push((observer, event, atMs) => {
    if (event.kind !== 'update') return;
    if (event.member.status === 'dead') deaths.push({ observer, id: event.member.id, atMs });
    if (event.member.status === 'suspect' && event.member.id === victim) suspectedMs = Math.min(suspectedMs, atMs);
  });
  const crashedMs = sim.nowMs;
  sim.crash(victim);
  const survivors = ids.filter((id) => id !== victim);
  sim.runUntil(() => survivors.every((id) => sim.status(id, victim) === 'dead'), 30_000);
  const perSurvivor = survivors
    .map((id) => Math.min(...deaths.filter((d) => d.observer === id && d.id === victim).map((d) => d.atMs)) - crashedMs)
    .sort((a, b) => a - b);
  detected.push(perSurvivor[Math.floor(perSurvivor.length / 2)]!);
  firstSuspected.push(suspectedMs - crashedMs);
  falseDeaths += deaths.filter((d) => d.id !== victim).length;
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! / 1000).toFixed(2);
};
console.log(`${n} members, ${trials} seeds, loss ${values.loss}, config ${values.config}`);
console.log(`median survivor marks the crashed member dead: p50 ${quantile(detected, 0.5)} s, p90 ${quantile(detected, 0.9)} s, p99 ${quantile(detected, 0.99)} s`);
console.log(`first suspicion: p50 ${quantile(firstSuspected, 0.5)} s, p99 ${quantile(firstSuspected, 0.99)} s`);
console.log(`false deaths: ${falseDeaths}; idle datagrams per member per second: ${(datagrams / memberSeconds).toFixed(2)}`);
