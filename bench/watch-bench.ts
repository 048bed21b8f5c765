/**
 * Watch notification latency (issue 15.2, docs/watch.md): a 3-node ring (N=3), --watchers long
 * polls (`GET /kv/{key}?changed_since=`) spread evenly over the nodes and over --keys keys,
 * then one write per key, one key after another; each watcher's latency is the time from its
 * key's write acknowledgement (at the writer) to its own answer (at the watcher). Writes go to
 * the nodes in turn. Prints median, p99 and max; a wake before the acknowledgement arrived
 * (the watcher's node committed before the writer heard w acks) counts as 0; the latency from
 * the write's sending is printed too.
 *
 *   node_modules/.bin/tsx bench/watch-bench.ts [--watchers 1000] [--keys 100]
 *
 * Bounded: one write per key, every poll has a 60 s timeout, the whole run a 120 s deadline;
 * every node started is stopped by PID.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { startLocalRing, stopNodes } from '@ringkv/cli';
import { benchArgs } from './lib/cli.js';

const USAGE = `usage: tsx bench/watch-bench.ts [--watchers 1000] [--keys 100]\n\nWatch notification latency on a 3-node ring: --watchers long polls over --keys keys, one write per key; median and p99 from write ack to watcher wake.`;
const { values } = benchArgs({ options: { watchers: { type: 'string', default: '1000' }, keys: { type: 'string', default: '100' } } }, USAGE);
const watcherCount = Number(values.watchers);
const keyCount = Number(values.keys);
if (!Number.isInteger(watcherCount) || watcherCount < 1 || watcherCount > 10_000 || !Number.isInteger(keyCount) || keyCount < 1 || keyCount > watcherCount) {
  process.stderr.write(`--watchers must be 1..10000 and --keys 1..watchers\n${USAGE.split('\n')[0]}\n`);
  process.exit(64);
}
const RUN_DEADLINE_MS = 120_000;
const POLL_TIMEOUT_MS = 60_000;
const CONTEXT_HEADER = 'x-ringkv-context';

const deadline = Date.now() + RUN_DEADLINE_MS;
const dir = mkdtempSync(join(tmpdir(), 'ringkv-watch-bench-'));
const secret = randomBytes(18).toString('base64url');
const nodes = await startLocalRing({ count: 3, n: 3, basePort: 0, dir, secret, deadlineMs: 60_000 });
// One connection per parked watch (opened as needed), and a few for writes; scrapes have their own.
const pools = nodes.map((node) => new Pool(node.url, { connections: watcherCount + 8 }));
const scrapers = nodes.map((node) => new Pool(node.url, { connections: 1 }));

async function send(pool: Pool, method: 'GET' | 'PUT', path: string, headers: Record<string, string> = {}, body?: string) {
  const response = await pool.request({ method, path, headers, body: body ?? null, headersTimeout: POLL_TIMEOUT_MS + 5_000, bodyTimeout: POLL_TIMEOUT_MS + 5_000 });
  await response.body.arrayBuffer();
  const context = response.headers[CONTEXT_HEADER];
  return { status: response.statusCode, context: Array.isArray(context) ? context[0] : context };
}

async function parkedOnRing(): Promise<number> {
  let total = 0;
  for (const pool of scrapers) {
    const response = await pool.request({ method: 'GET', path: '/metrics' });
    const text = await response.body.text();
    total += Number(/^ringkv_watchers_parked(?:{[^}]*})? (\d+)$/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

try {
  const keys = Array.from({ length: keyCount }, (_, i) => `watch-bench/${i}`);
  const contexts: string[] = [];
  for (const [i, key] of keys.entries()) {
    const pool = pools[i % pools.length]!;
    await send(pool, 'PUT', `/kv/${encodeURIComponent(key)}`, { 'content-type': 'text/plain' }, 'v0');
    contexts.push((await send(pool, 'GET', `/kv/${encodeURIComponent(key)}`)).context!);
  }
  const ackedAt = new Array<number>(keyCount).fill(0);
  const sentAt = new Array<number>(keyCount).fill(0);
  const woke: Array<{ key: number; at: number; status: number }> = [];
  const watches = Array.from({ length: watcherCount }, (_, w) => {
    const key = w % keyCount;
    // Each key's watchers spread over the nodes, the nodes' shares within one of each other.
    const pool = pools[(w + Math.floor(w / keyCount)) % pools.length]!;
    const path = `/kv/${encodeURIComponent(keys[key]!)}?changed_since=${contexts[key]}&timeout_ms=${POLL_TIMEOUT_MS}`;
    return send(pool, 'GET', path).then((answer) => woke.push({ key, at: performance.now(), status: answer.status }));
  });
  await until(`${watcherCount} watches parked`, async () => (await parkedOnRing()) === watcherCount);
  const load = loadavg()[0]!.toFixed(2);
  const started = performance.now();
  for (const [i, key] of keys.entries()) {
    const pool = pools[i % pools.length]!;
    sentAt[i] = performance.now();
    const put = await send(pool, 'PUT', `/kv/${encodeURIComponent(key)}`, { 'content-type': 'text/plain', [CONTEXT_HEADER]: contexts[i]! }, 'v1');
    if (put.status !== 204) throw new Error(`PUT ${key}: ${put.status}`);
    ackedAt[i] = performance.now();
    const expected = (Math.floor(watcherCount / keyCount) + (i < watcherCount % keyCount ? 1 : 0));
    await until(`the watchers of ${key}`, async () => woke.filter((entry) => entry.key === i).length === expected);
  }
  await Promise.all(watches);
  const elapsed = performance.now() - started;
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  const fromAck = sorted(woke.map((entry) => Math.max(0, entry.at - ackedAt[entry.key]!)));
  const fromSent = sorted(woke.map((entry) => entry.at - sentAt[entry.key]!));
  const wokeBeforeAck = woke.filter((entry) => entry.at < ackedAt[entry.key]!).length;
  const figures = (latencies: number[]) => {
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    return `median ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`;
  };
  const statuses = new Set(woke.map((entry) => entry.status));
  process.stdout.write(
    `${watcherCount} watchers on ${keyCount} keys, 3 nodes (N=3), ${keyCount} writes in ${(elapsed / 1000).toFixed(1)} s; load average (1 min) at start ${load}\n` +
      `answers: ${[...statuses].join(', ')}; ${wokeBeforeAck} of ${woke.length} watchers woke before the writer had its acknowledgement\n` +
      `write ack → watcher wake (before the ack: 0): ${figures(fromAck)}\n` +
      `write sent → watcher wake: ${figures(fromSent)}\n`,
  );
} catch (error) {
  process.stderr.write(`watch-bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
} finally {
  await stopNodes(nodes);
  await Promise.all([...pools, ...scrapers].map((pool) => pool.destroy().catch(() => {})));
  rmSync(dir, { recursive: true, force: true });
}
