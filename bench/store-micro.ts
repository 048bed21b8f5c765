/**
 * The durable store alone, in one process: a SqliteStore (synchronous full, fsync per group
 * commit) taking what a replica takes under the side-by-side PUT load: `--concurrency` loops
 * each merging a new 100-byte object into a new key (store.merge: the replica write, which waits
 * for the group commit and its WAL fsync), for `--writes` writes. Then the same number of
 * point reads of those keys. Prints, per write and per read, the CPU time of this process and
 * (Linux) the read and write syscalls it made (/proc/self/io), and the longest the event loop
 * was held (a commit that ran a WAL checkpoint holds it longest): the floor a
 * replicated PUT pays three times over, without HTTP or the transport.
 *
 * With `--keyspace N` the writes go to N keys over and over instead (each an overwrite that read
 * the stored version first, as a client with its context does): what a replica takes under
 * `pnpm bench:compare --keys N`, where almost every PUT replaces a row.
 *
 *   tsx bench/store-micro.ts [--writes 20000] [--concurrency 32] [--keys sequential|random] [--keyspace N]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SqliteStore } from '@ringkv/node';
import { contextOf, update } from '@ringkv/node/testing';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: tsx bench/store-micro.ts [--writes 20000] [--concurrency 32] [--keys sequential|random] [--keyspace N] [--dir DIR]\n\nThe durable store alone: replica writes then point reads; CPU µs and syscalls per operation, longest event-loop stall.`;

const { values } = benchArgs({
  options: {
    writes: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    keys: { type: 'string', default: 'sequential' },
    keyspace: { type: 'string' },
    dir: { type: 'string' },
  },
}, USAGE);
const writes = Number(values.writes);
const concurrency = Number(values.concurrency);
const keyspace = values.keyspace === undefined ? writes : Number(values.keyspace);
if (!(writes > 0) || !(concurrency > 0) || !(keyspace > 0) || !['sequential', 'random'].includes(values.keys!)) throw new Error(USAGE);
const limits = { siblingsMax: 8, clockEntriesMax: 8 };
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'ringkv-store-micro-'));
const store = new SqliteStore({ dir, nodeId: 'node-a', synchronous: 'full', integrityCheck: false, nowMs: Date.now });
const value = new Uint8Array(100);
const distinct = Array.from({ length: Math.min(keyspace, writes) }, (_, i) => (values.keys === 'random' ? randomBytes(8).toString('hex') : `p1-${i}`));
const keys = Array.from({ length: writes }, (_, i) => distinct[i % distinct.length]!);

/** Read and write syscalls of this process so far (Linux /proc/self/io). */
function syscalls(): { reads: number; writes: number } {
  try {
    const io = readFileSync('/proc/self/io', 'utf8');
    const field = (name: string) => Number(io.match(new RegExp(`^${name}: (\\d+)`, 'm'))?.[1] ?? NaN);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return { reads: NaN, writes: NaN };
  }
}

async function phase(label: string, op: (key: string) => Promise<void>): Promise<void> {
  let next = 0;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const sys0 = syscalls();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < writes) await op(keys[next++]!);
  }));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sys1 = syscalls();
  delay.disable();
  const per = (x: number) => (x / writes).toFixed(2);
  // The longest the event loop was held (a commit with a checkpoint in it, for example).
  const stallMs = (delay.max / 1e6).toFixed(1);
  console.log(`| ${label} | ${Math.round(writes / wallS)} | ${per(cpu.user + cpu.system)} | ${per(sys1.reads - sys0.reads)} | ${per(sys1.writes - sys0.writes)} | ${stallMs} |`);
}

console.log(`${values.keys} keys (${distinct.length} distinct), ${writes} ops, ${concurrency} concurrent, data in ${dir}\n`);
console.log('| op | ops/s | CPU µs/op | read syscalls/op | write syscalls/op | longest event-loop stall ms |\n|---|---:|---:|---:|---:|---:|');
const stats0 = store.stats();
const syncs0 = store.walSyncs();
await phase('replica write (Store.merge)', async (key) => {
  const stored = store.get(key);
  const context = stored === undefined ? [] : contextOf(stored);
  const incoming = update(stored, { coordinatorId: 'node-b', context, deleted: false, value, contentType: 'application/octet-stream', nowMs: Date.now() }, limits);
  await store.merge(key, incoming, limits);
});
const stats1 = store.stats();
await phase('point read (get)', async (key) => {
  store.get(key);
});
console.log(`\n${stats1.commits - stats0.commits} group commits (${((stats1.writes - stats0.writes) / (stats1.commits - stats0.commits)).toFixed(1)} writes each), ${store.walSyncs() - syncs0} WAL fsyncs`);
await store.close();
rmSync(dir, { recursive: true, force: true });
