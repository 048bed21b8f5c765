/**
 * Listing keys on a real 3-node ring (issue 15, point 3; docs/listing.md): loads N keys through
 * the HTTP API with many concurrent clients (bounded by --load-seconds: whatever loaded by then
 * is listed), then lists every key in pages of --page keys from node1, once with r=1 (the
 * serving node's own index covers the ring with N=3) and once with r=2 (each range also asked
 * at a second replica over the stream transport, answers merged). Prints the median, p90, p99
 * and max milliseconds per page (HDR histogram), and checks that every loaded key was listed
 * exactly once and in order. Every process started is stopped by PID.
 *
 *   tsx bench/list-bench.ts [--keys 1000000] [--page 1000] [--clients 256] [--load-seconds 600] [--sync normal]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { RingkvClient } from '@ringkv/client';
import { startLocalRing, stopNodes } from '@ringkv/cli';
import { benchArgs } from './lib/cli.js';
import { histogram } from './lib/load.js';
import { machine } from './lib/report.js';

const USAGE = `usage: tsx bench/list-bench.ts [--keys 1000000] [--page 1000] [--clients 256] [--load-seconds 600] [--sync normal]

Loads keys into a 3-node ring (N=3) over HTTP, then lists them all in pages (GET /kv) with r=1 and r=2:
milliseconds per page (median, p90, p99, max) and an exactly-once check.`;

const { values } = benchArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    page: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '256' },
    'load-seconds': { type: 'string', default: '600' },
    sync: { type: 'string', default: 'normal' },
  },
}, USAGE);

const keyCount = Number(values.keys);
const pageSize = Number(values.page);
const clients = Number(values.clients);
const loadSeconds = Number(values['load-seconds']);
if (![keyCount, pageSize, clients, loadSeconds].every((x) => Number.isSafeInteger(x) && x > 0) || keyCount > 10_000_000 || pageSize > 1000 || clients > 4096 || !['full', 'normal'].includes(values.sync!)) {
  process.stderr.write('--keys (≤ 10,000,000), --page (≤ 1000), --clients (≤ 4096) and --load-seconds must be positive integers; --sync full|normal\n');
  process.exit(64);
}

const keyOf = (i: number) => `k/${i.toString().padStart(8, '0')}`;

/** Writes keys 0.. with `clients` concurrent loops until all are written or the time is up; returns which were acknowledged. */
async function load(client: RingkvClient): Promise<{ written: Uint8Array; count: number; seconds: number }> {
  const written = new Uint8Array(keyCount);
  const started = performance.now();
  const deadline = started + loadSeconds * 1000;
  let next = 0;
  let count = 0;
  let failed = 0;
  let reported = started;
  const value = randomBytes(100);
  const loop = async () => {
    while (next < keyCount && performance.now() < deadline) {
      const i = next++;
      try {
        await client.put(keyOf(i), value, { w: 2 });
        written[i] = 1;
        count++;
      } catch {
        failed++;
      }
      if (performance.now() - reported > 10_000) {
        reported = performance.now();
        process.stderr.write(`loaded ${count.toLocaleString('en')} keys (${failed} failed) in ${((reported - started) / 1000).toFixed(0)} s\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  // A write that failed may still have landed: such keys are excluded from the check by index.
  for (let i = 0; i < next; i++) if (written[i] === 0) written[i] = 2;
  return { written, count, seconds: (performance.now() - started) / 1000 };
}

interface ListResult {
  pages: number;
  listed: number;
  duplicatesOrDisorder: number;
  missing: number;
  unexpected: number;
  ms: { median: number; p90: number; p99: number; max: number };
}

/** Lists every key in pages from `url`; checks order, uniqueness and completeness against `written`. */
async function listAll(url: string, r: number, written: Uint8Array): Promise<ListResult> {
  const pool = new Pool(url, { connections: 1 });
  const latencies = histogram();
  const seen = new Uint8Array(keyCount);
  let after = '';
  let previous = '';
  let pages = 0;
  let listed = 0;
  let duplicatesOrDisorder = 0;
  let unexpected = 0;
  const pagesMax = Math.ceil(keyCount / pageSize) * 4 + 10;
  try {
    for (; pages < pagesMax; ) {
      const started = performance.now();
      const response = await pool.request({ method: 'GET', path: `/kv?${new URLSearchParams({ after, limit: String(pageSize), r: String(r) })}` });
      const body = (await response.body.json()) as { keys: string[]; next: string | null };
      latencies.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
      pages++;
      if (response.statusCode !== 200) throw new Error(`page ${pages}: ${response.statusCode} ${JSON.stringify(body)}`);
      for (const key of body.keys) {
        listed++;
        if (key <= previous) duplicatesOrDisorder++;
        previous = key;
        const index = /^k\/\d{8}$/.test(key) ? Number(key.slice(2)) : -1;
        if (index < 0 || index >= keyCount || written[index] === 0) unexpected++;
        else if (seen[index] === 1) duplicatesOrDisorder++;
        else seen[index] = 1;
      }
      if (body.next === null) break;
      after = body.next;
    }
  } finally {
    await pool.close();
  }
  let missing = 0;
  for (let i = 0; i < keyCount; i++) if (written[i] === 1 && seen[i] === 0) missing++;
  const ms = (q: number) => latencies.getValueAtPercentile(q) / 1000;
  return { pages, listed, duplicatesOrDisorder, missing, unexpected, ms: { median: ms(50), p90: ms(90), p99: ms(99), max: latencies.maxValue / 1000 } };
}

const dir = mkdtempSync(join(tmpdir(), 'ringkv-list-bench-'));
const nodes = await startLocalRing({ count: 3, n: 3, basePort: 0, dir, secret: randomBytes(18).toString('base64url'), extraArgs: ['--sync', values.sync!] });
const client = new RingkvClient({ urls: nodes.map((node) => node.url), connectionsPerNode: Math.min(clients, 128) });
let exitCode = 0;
try {
  process.stderr.write(`loading up to ${keyCount.toLocaleString('en')} keys with ${clients} clients, at most ${loadSeconds} s...\n`);
  const loaded = await load(client);
  process.stderr.write(`loaded ${loaded.count.toLocaleString('en')} keys in ${loaded.seconds.toFixed(0)} s (${(loaded.count / loaded.seconds).toFixed(0)}/s)\n`);
  const rows: string[] = [];
  for (const r of [1, 2]) {
    process.stderr.write(`listing in pages of ${pageSize} with r=${r}...\n`);
    const result = await listAll(nodes[0]!.url, r, loaded.written);
    const exact = result.duplicatesOrDisorder === 0 && result.missing === 0 && result.unexpected === 0;
    if (!exact) exitCode = 1;
    rows.push(`| ${r} | ${result.pages} | ${result.listed.toLocaleString('en')} | ${result.ms.median.toFixed(1)} | ${result.ms.p90.toFixed(1)} | ${result.ms.p99.toFixed(1)} | ${result.ms.max.toFixed(1)} | ${exact ? 'yes' : `NO (${result.missing} missing, ${result.duplicatesOrDisorder} twice or out of order, ${result.unexpected} unexpected)`} |`);
  }
  process.stdout.write(`${JSON.stringify({ keysLoaded: loaded.count, loadSeconds: Math.round(loaded.seconds), page: pageSize, sync: values.sync, machine: machine() })}\n\n`);
  process.stdout.write(`| r | pages | keys listed | median ms/page | p90 | p99 | max | every key exactly once |\n|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`);
} finally {
  await client.close();
  await stopNodes(nodes);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
