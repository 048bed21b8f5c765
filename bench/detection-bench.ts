/**
 * Failure detection of a real ringkv ring (SWIM + Lifeguard) on this machine, for comparison
 * with serf (`../shared/peers/serf-compare.sh`): K node processes on loopback, one SIGKILLed per
 * trial; each survivor's /admin/members is polled every 150 ms to time when it marks the
 * victim dead. Also measures idle gossip datagrams per member per second. Bounded: at most
 * `--trials` trials of at most 30 s each; every process is stopped by PID.
 *
 *   pnpm tsx bench/detection-bench.ts [--nodes 10] [--trials 20]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { startLocalRing, stopNodes, type RunningNode } from '@ringkv/cli';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: pnpm tsx bench/detection-bench.ts [--nodes 10] [--trials 20]\n\nFailure detection of a real ring (SWIM + Lifeguard): --nodes processes, one SIGKILLed per trial; when each survivor marks it dead, and idle gossip datagrams per member per second.`;

const { values } = benchArgs({ options: { nodes: { type: 'string', default: '10' }, trials: { type: 'string', default: '20' } } }, USAGE);
const count = Number(values.nodes);
const trials = Number(values.trials);

async function json<T>(url: string): Promise<T> {
  const response = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
  return (await response.body.json()) as T;
}

function startRing(dir: string): Promise<RunningNode[]> {
  return startLocalRing({ count, n: 3, basePort: 0, dir, secret: randomBytes(18).toString('base64url') });
}

/** One of the node's gossip counters from /metrics (docs/metrics.md), by its name's middle part. */
async function gossipCounter(node: RunningNode, counter: string): Promise<number> {
  const response = await request(`${node.url}/metrics`);
  const [name, labels] = counter === 'packets_out' ? ['ringkv_gossip_packets_total', '{direction="out"'] : [`ringkv_gossip_${counter}_total`, '{'];
  const line = (await response.body.text()).split('\n').find((l) => l.startsWith(`${name}${labels}`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

const IDLE_COUNTERS = ['packets_out', 'indirect_probes', 'suspicions'] as const;

/** Sums of the idle counters over all nodes. */
async function idleCounters(nodes: RunningNode[]): Promise<number[]> {
  return Promise.all(IDLE_COUNTERS.map(async (counter) => (await Promise.all(nodes.map((node) => gossipCounter(node, counter)))).reduce((a, b) => a + b, 0)));
}

const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)] ?? NaN;
};

const medians: number[] = [];
const lasts: number[] = [];
const IDLE_SECONDS = 20;
let idlePerSecond = NaN;
let idleIndirect = NaN;
let idleSuspicions = NaN;
let falseDeaths = 0;
for (let trial = 0; trial < trials; trial++) {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-detect-'));
  const nodes = await startRing(dir);
  try {
    if (trial === 0) {
      // Steady state: let the join updates finish their retransmissions first (10 s), then
      // count for 20 s.
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const before = await idleCounters(nodes);
      await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
      const after = await idleCounters(nodes);
      const [packets, indirect, suspicions] = after.map((v, i) => v - before[i]!) as [number, number, number];
      idlePerSecond = packets / (count * IDLE_SECONDS);
      idleIndirect = indirect;
      idleSuspicions = suspicions;
    }
    const victim = nodes[count - 1]!;
    const survivors = nodes.slice(0, -1);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const detected = new Map<string, number>();
    while (detected.size < survivors.length && Date.now() - killedAt < 30_000) {
      await Promise.all(
        survivors.filter((s) => !detected.has(s.id)).map(async (s) => {
          const members = await json<Array<{ id: string; status: string }>>(`${s.url}/admin/members`);
          if (members.find((m) => m.id === victim.id)?.status === 'dead') detected.set(s.id, Date.now() - killedAt);
          falseDeaths = Math.max(falseDeaths, members.filter((m) => m.id !== victim.id && m.status === 'dead').length);
        }),
      );
      // 150 ms: finer polling would itself load the two cores the ring runs on.
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const times = [...detected.values()];
    medians.push(percentile(times, 50) / 1000);
    lasts.push(Math.max(...times) / 1000);
    process.stderr.write(`trial ${trial + 1}: median ${(percentile(times, 50) / 1000).toFixed(2)} s, last ${(Math.max(...times) / 1000).toFixed(2)} s, ${detected.size}/${survivors.length} detected\n`);
  } finally {
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(
  `\n| metric (${count} nodes, ${trials} trials) | p50 | p99 |\n|---|---:|---:|\n` +
    `| time until a survivor (median of survivors) marks a kill -9'd node dead, s | ${percentile(medians, 50).toFixed(2)} | ${percentile(medians, 99).toFixed(2)} |\n` +
    `| time until the last survivor marks it dead, s | ${percentile(lasts, 50).toFixed(2)} | ${percentile(lasts, 99).toFixed(2)} |\n\n` +
    `idle gossip datagrams per member per second: ${idlePerSecond.toFixed(2)} (over ${IDLE_SECONDS} s after 10 s of settling: ${idleIndirect} indirect probes, ${idleSuspicions} suspicions in all); healthy members ever seen dead: ${falseDeaths}\n`,
);
