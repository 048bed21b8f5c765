/**
 * Rotating the cluster secret on a running ring (docs/security.md, "Cluster secret and key
 * derivation"): two real node processes, each with a secret file reloaded on SIGHUP, go through
 * the three steps (add the new secret, make it primary, drop the old) while writes at w=2 and
 * gossip keep working, and a context read before the rotation stays valid until its secret is
 * dropped.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { errorCode, headerOf, http, httpAgent, tempDir, trackPid, waitFor } from '../helpers/process.js';
import { waitConverged } from '../helpers/ring.js';
import { sampleValue } from '../helpers/metrics.js';

const LAUNCHER = fileURLToPath(new URL('./secret-file-node.mjs', import.meta.url));
const OLD = 'old-cluster-secret-0001';
const NEW = 'new-cluster-secret-0002';

interface Started {
  readonly id: string;
  readonly pid: number;
  readonly url: string;
  readonly gossipAddress: string;
  readonly file: string;
  stderr: string;
}

async function start(t: Test, id: string, secrets: string[], seeds: string[], n = 2): Promise<Started> {
  const dir = await tempDir(t);
  const file = join(dir, 'secrets');
  writeFileSync(file, secrets.join('\n') + '\n', { mode: 0o600 });
  const config = { nodeId: id, host: '127.0.0.1', httpPort: 0, gossipPort: 0, dataDir: join(dir, 'data'), n, seeds, logLevel: 'info' };
  const child = spawn(process.execPath, [LAUNCHER, JSON.stringify(config), file], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackPid(t, child.pid!);
  const node = { id, pid: child.pid!, url: '', gossipAddress: '', file, stderr: '' };
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (node.stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} did not start: ${node.stderr}`)), 20_000);
    lines.on('line', (line) => {
      if (!line.includes('"node started"')) return;
      const parsed = JSON.parse(line) as { url: string; gossipAddress: string };
      Object.assign(node, { url: parsed.url, gossipAddress: parsed.gossipAddress });
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`${id} exited ${code}: ${node.stderr}`)));
  });
  return node;
}

/** A gossip metric of the node (docs/metrics.md). */
async function gossip(agent: ReturnType<typeof httpAgent>, node: Started, name: string, labels: Record<string, string>): Promise<number> {
  return sampleValue((await http(agent, 'GET', `${node.url}/metrics`)).body.toString(), name, labels);
}

/** Rewrites every node's secret file and sends SIGHUP; waits until each logged the reload. */
async function rotate(ring: Started[], secrets: string[]): Promise<void> {
  for (const node of ring) {
    const reloads = node.stderr.split('secrets reloaded').length;
    writeFileSync(node.file, secrets.join('\n') + '\n');
    process.kill(node.pid, 'SIGHUP');
    await waitFor(() => node.stderr.split('secrets reloaded').length > reloads || undefined, 10_000, `${node.id} reloaded its secrets`);
  }
}

t.test('a secret is rotated on a running ring without downtime: add, make primary, drop', async (t) => {
  const first = await start(t, 'rot1', [OLD], []);
  const second = await start(t, 'rot2', [OLD], [first.gossipAddress]);
  const ring = [first, second];
  const asProcesses = ring.map((n) => ({ ...n, id: n.id })) as unknown as Parameters<typeof waitConverged>[1];
  await waitConverged(t, asProcesses, 2);
  const agent = httpAgent(t);
  const write = async (node: Started, key: string, value: string, context?: string) =>
    http(agent, 'PUT', `${node.url}/kv/${key}?w=2`, { body: value, headers: context === undefined ? {} : { 'x-ringkv-context': context } });
  t.equal((await write(first, 'k', 'v1')).status, 204, 'before: w=2 works under the old secret');
  const oldContext = headerOf(await http(agent, 'GET', `${second.url}/kv/k?r=2`), 'x-ringkv-context')!;

  const steps: Array<[string, string[]]> = [
    ['step 1: the new secret added everywhere (old still primary)', [OLD, NEW]],
    ['step 2: the new secret primary everywhere', [NEW, OLD]],
  ];
  for (const [what, secrets] of steps) {
    await rotate(ring, secrets);
    t.equal((await write(second, `k-${secrets[0]}`, 'v')).status, 204, `${what}: writes at w=2 replicate`);
    await waitConverged(t, asProcesses, 2);
    t.pass(`${what}: gossip sees both alive`);
  }
  const withOld = await write(first, 'k', 'v2', oldContext);
  t.equal(withOld.status, 204, 'a context read under the old secret is still accepted while it is in the ring');
  const newContext = headerOf(await http(agent, 'GET', `${first.url}/kv/k?r=2`), 'x-ringkv-context')!;

  await rotate(ring, [NEW]);
  t.equal((await write(first, 'k3', 'v')).status, 204, 'step 3, the old secret dropped: writes at w=2 replicate');
  const stale = await write(second, 'k', 'v3', oldContext);
  t.equal(stale.status, 400, 'a context signed only under the dropped secret is refused');
  t.equal(errorCode(stale), 'KV_ERR_BAD_CONTEXT');
  t.equal((await write(second, 'k', 'v3', newContext)).status, 204, 'a context signed under the new secret works');
  // Gossip keeps flowing under the new key alone: packets arrive, none is refused.
  for (const node of ring) {
    const before = { in: await gossip(agent, node, 'ringkv_gossip_packets_total', { direction: 'in' }), refused: await gossip(agent, node, 'ringkv_gossip_packets_dropped_total', { reason: 'unauthenticated' }) };
    await waitFor(async () => (await gossip(agent, node, 'ringkv_gossip_packets_total', { direction: 'in' })) >= before.in + 6 || undefined, 15_000, `${node.id} keeps receiving gossip`);
    t.equal(await gossip(agent, node, 'ringkv_gossip_packets_dropped_total', { reason: 'unauthenticated' }), before.refused, `${node.id}: no gossip packet refused after the old secret was dropped`);
  }
  await waitConverged(t, asProcesses, 2);
  t.notMatch(first.stderr + second.stderr, /NOT reloaded/, 'every reload succeeded');
});

t.test('a bad secret file on SIGHUP keeps the old secrets', async (t) => {
  const node = await start(t, 'rot-bad', [OLD], [], 1);
  writeFileSync(node.file, 'short\n');
  process.kill(node.pid, 'SIGHUP');
  await waitFor(() => node.stderr.includes('NOT reloaded') || undefined, 10_000, 'the failed reload is reported');
  const agent = httpAgent(t);
  t.equal((await http(agent, 'PUT', `${node.url}/kv/x`, { body: 'v' })).status, 204, 'the node still serves');
  const context = headerOf(await http(agent, 'GET', `${node.url}/kv/x`), 'x-ringkv-context')!;
  t.equal((await http(agent, 'PUT', `${node.url}/kv/x`, { body: 'w', headers: { 'x-ringkv-context': context } })).status, 204, 'with its old keys');
});
