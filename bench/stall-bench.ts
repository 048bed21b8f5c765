/**
 * False deaths under stalls (issue 4): a 10-node ring on loopback while two CPU hogs (busy
 * loops, bounded in time, started once the ring is up) compete for the two cores; a random
 * node is SIGSTOPped for 0.3–1.5 s and resumed, `--rounds` times, 3 s apart. Nobody
 * crashes, so every death a node declares or learns (`ringkv_gossip_deaths_total`) is a
 * false one. Bounded: rounds x about 4.5 s; every process started (nodes and hogs) is
 * stopped by PID.
 *
 *   node_modules/.bin/tsx bench/stall-bench.ts [--nodes 10] [--rounds 20]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { startLocalRing, stopNodes } from '@ringkv/cli';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: tsx bench/stall-bench.ts [--nodes 10] [--rounds 20]\n\nFalse deaths under stalls: a ring of --nodes on loopback with two CPU hogs, a random node SIGSTOPped for 0.3-1.5 s --rounds times; every death declared is a false one.`;

const { values } = benchArgs({ options: { nodes: { type: 'string', default: '10' }, rounds: { type: 'string', default: '20' } } }, USAGE);
const count = Number(values.nodes);
const rounds = Number(values.rounds);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ringkv_gossip_<name>_total of the node (docs/metrics.md). */
async function counter(url: string, name: string): Promise<number> {
  const response = await request(`${url}/metrics`);
  const line = (await response.body.text()).split('\n').find((l) => l.startsWith(`ringkv_gossip_${name}_total{`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

const dir = mkdtempSync(join(tmpdir(), 'ringkv-stall-'));
const secret = randomBytes(18).toString('base64url');
const nodes = await startLocalRing({ count, n: 3, basePort: 0, dir, secret, deadlineMs: 60_000 });
const hogSeconds = rounds * 5 + 30;
const hogs = [0, 1].map(() => spawn(process.execPath, ['-e', `const end = Date.now() + ${hogSeconds * 1000}; while (Date.now() < end) {}`], { stdio: 'ignore' }));
try {
  let stalledMs = 0;
  for (let round = 0; round < rounds; round++) {
    const victim = nodes[1 + Math.floor(Math.random() * (count - 1))]!;
    const stall = 300 + Math.floor(Math.random() * 1200);
    victim.child.kill('SIGSTOP');
    await sleep(stall);
    victim.child.kill('SIGCONT');
    stalledMs += stall;
    process.stderr.write(`round ${round + 1}: ${victim.id} stopped ${stall} ms\n`);
    await sleep(3_000);
  }
  await sleep(5_000);
  let deaths = 0;
  let refutations = 0;
  let suspicions = 0;
  for (const node of nodes) {
    deaths += await counter(node.url, 'deaths');
    refutations += await counter(node.url, 'refutations');
    suspicions += await counter(node.url, 'suspicions');
  }
  process.stdout.write(
    `\n${count} nodes, 2 CPU hogs, ${rounds} stalls of 0.3-1.5 s (${(stalledMs / 1000).toFixed(1)} s in all):\n` +
      `false deaths (declared or learned, summed over nodes): ${deaths}; suspicions: ${suspicions}; refutations: ${refutations}\n`,
  );
} finally {
  for (const hog of hogs) hog.kill('SIGKILL');
  for (const node of nodes) node.child.kill('SIGCONT');
  await stopNodes(nodes);
  rmSync(dir, { recursive: true, force: true });
}
