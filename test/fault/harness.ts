/**
 * The real-process fault harness (issue 6; membership and clock nemesis from issue 19): a ring
 * of node processes on loopback (cluster.ts), a set workload through the client library
 * (read-modify-write with contexts, siblings merged by union, occasional deletes with
 * context), and a seeded nemesis (nemesis.ts): kills, pauses and partitions, and with
 * `membership` joins, leaves, removes, wiped disks, clock steps and overlapping faults. After
 * the run every fault is healed, handoff and hints settle, a quiet phase deletes some keys,
 * each key is read at R = N (read repair brings the replicas level), and the history goes to
 * the checker; read-your-writes misses are counted besides (a statistic, not a failure).
 */
import type { RingkvClient, Sibling } from '@ringkv/client';
import { http, waitFor } from '../helpers/process.js';
import { ensureFaketime } from '../helpers/faketime.js';
import { check, readYourWrites, type FinalKey, type HistoryEvent, type ReadYourWrites, type Verdict } from './checker.js';
import { FaultCluster } from './cluster.js';
import { runNemesis, sleep, type NemesisLog } from './nemesis.js';
import type { TestLike } from '../helpers/process.js';

export interface FaultRunOptions {
  readonly nodes: number;
  readonly n: number;
  readonly keys: number;
  readonly workers: number;
  readonly durationMs: number;
  readonly seed: number;
  /** Joins, leaves, removes, wiped disks, clock steps and overlapping faults besides the classic ones. */
  readonly membership?: boolean;
}

export interface FaultReport {
  readonly verdict: Verdict;
  readonly readYourWrites: ReadYourWrites;
  readonly operations: number;
  readonly faults: Record<string, number>;
  readonly faultLog: readonly string[];
  /** From the end of the heal (every fault healed, gossip converged) to every key converged. */
  readonly convergeMs: number;
  /** Waits after the heal that ran out (a leave that never ended, hints never delivered). */
  readonly settleProblems: readonly string[];
  /** The ring at the end, e.g. "node1, node3, node6, node7". */
  readonly finalRing: string;
  /** Each lost add with the time it was acknowledged (s since the fault phase began), to set beside the fault log. */
  readonly lostAt: readonly string[];
}

/** The tombstone grace of membership runs: clock steps are chosen within and beyond it. */
const MEMBERSHIP_GRACE_MS = 10_000;

/** A small seeded PRNG so a run's fault schedule can be replayed (timing still varies). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), state | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function union(siblings: readonly Sibling[]): string[] {
  const out = new Set<string>();
  for (const sibling of siblings) {
    if (sibling.deleted) continue;
    try {
      for (const element of JSON.parse(Buffer.from(sibling.value).toString()) as string[]) out.add(element);
    } catch {
      // A value that is not a set would be a bug elsewhere; the checker will see elements missing.
    }
  }
  return [...out].sort();
}

/**
 * A delete with the context of a read that began at `readStartMs`: the delete starts when its
 * read did, since an add acknowledged between the read and the delete is not covered by the
 * delete's context (found by the cluster simulation: the checker otherwise reports it as a
 * resurrection).
 */
export async function deleteKey(client: RingkvClient, key: string, seen: string[], context: { context?: string }, readStartMs: number): Promise<HistoryEvent> {
  const event = { type: 'delete' as const, key, seen, ok: false, startMs: readStartMs, endMs: Infinity };
  try {
    await client.delete(key, { ...context, timeoutMs: 2_000 });
    event.ok = true;
  } catch {
    // Indeterminate.
  }
  event.endMs = Date.now();
  return event;
}

async function worker(client: () => RingkvClient, id: number, keys: string[], until: number, rng: () => number, history: HistoryEvent[]): Promise<number> {
  let ops = 0;
  for (let n = 0; Date.now() < until && n < 100_000; n++) {
    const key = keys[Math.floor(rng() * keys.length)]!;
    let read;
    const readStartMs = Date.now();
    try {
      read = await client().get(key, { timeoutMs: 2_000 });
    } catch {
      await sleep(50);
      continue;
    }
    const seen = union(read.siblings);
    history.push({ type: 'read', key, siblings: read.siblings.length, elements: seen, startMs: readStartMs, endMs: Date.now() });
    const context = read.context === undefined ? {} : { context: read.context };
    ops++;
    if (rng() < 0.03) {
      history.push(await deleteKey(client(), key, seen, context, readStartMs));
      continue;
    }
    const element = `w${id}-${n}`;
    const event = { type: 'add' as const, key, element, ok: false, startMs: Date.now(), endMs: Infinity };
    try {
      await client().put(key, JSON.stringify([...seen, element]), { ...context, timeoutMs: 2_000 });
      event.ok = true;
    } catch {
      // Indeterminate.
    }
    event.endMs = event.ok ? Date.now() : Infinity; // a failed add may still land at any time
    history.push(event);
  }
  return ops;
}


/** The arguments every node of a run gets. */
function nodeArgs(membership: boolean): string[] {
  // Membership runs shorten the tombstone grace so clock steps can cross it and the reaper
  // runs during the test (nodes warn under 60 s; the grace still exceeds every pause).
  return membership ? ['--fault-injection', '--tombstone-grace-ms', String(MEMBERSHIP_GRACE_MS), '--reap-interval-ms', '1000'] : ['--fault-injection'];
}

/** Each replica's versions of a key, comparable as strings. */
async function replicaStates(cluster: FaultCluster, key: string): Promise<string[]> {
  const up = cluster.up();
  const pref = (await http(cluster.agent, 'GET', `${up[0]!.proc.url}/admin/preflist/${encodeURIComponent(key)}`)).json as { preferenceList: Array<{ id: string }> };
  const states: string[] = [];
  for (const { id } of pref.preferenceList) {
    const member = cluster.byId(id);
    if (member === undefined || member.state !== 'running') {
      states.push(`<${id} not running>`);
      continue;
    }
    const local = await http(cluster.agent, 'GET', `${member.proc.url}/admin/local/${encodeURIComponent(key)}`);
    const siblings = local.status === 200 ? (local.json as { siblings: Array<{ value?: string; deleted?: boolean }> }).siblings : [];
    states.push(JSON.stringify(siblings.map((s) => (s.deleted ? '<deleted>' : s.value)).sort()));
  }
  return states;
}

/**
 * After the heal: every node has handed off what it no longer owns and holds no hint (each
 * bounded; what does not settle is reported).
 */
async function settle(cluster: FaultCluster): Promise<string[]> {
  const problems: string[] = [];
  const quiet = (what: string, pick: Parameters<FaultCluster['statusSum']>[0]) =>
    waitFor(async () => ((await cluster.statusSum(pick)) === 0 ? true : undefined), 120_000, what).catch(async () => {
      problems.push(`${what}: ${await cluster.statusSum(pick)} left after 120 s`);
    });
  await quiet('ownership handoff done', (status) => status.transfers.pending);
  await quiet('every hint delivered', (status) => Object.values(status.hints).reduce((a, b) => a + b, 0));
  return problems;
}

/**
 * `readYourWrites` over the history in time windows of reads, with each window's history cut
 * to what can matter to it: the checker's function compares every read with every add of its
 * key and every add with every delete, which a ten-minute soak (tens of thousands of each) makes
 * take hours. For the reads starting in [a, b), an add covered by a delete (one whose read saw
 * its element) that started before a can never be a miss, and a delete that started before a
 * covers only such adds; adds ending after the last read start and deletes starting after the
 * last read end cannot matter either. So the sums over windows equal the whole-history figures.
 */
export function readYourWritesWindowed(history: readonly HistoryEvent[], windowMs = 2_000): ReadYourWrites {
  type Read = Extract<HistoryEvent, { type: 'read' }>;
  type Add = Extract<HistoryEvent, { type: 'add' }>;
  type Delete = Extract<HistoryEvent, { type: 'delete' }>;
  const startOf = (d: Delete) => d.startMs ?? -Infinity;
  const reads = history.filter((e): e is Read => e.type === 'read' && e.startMs !== undefined && e.elements !== undefined).sort((x, y) => x.startMs! - y.startMs!);
  const adds = history.filter((e): e is Add => e.type === 'add' && e.ok && e.endMs !== undefined).sort((x, y) => x.endMs! - y.endMs!);
  const deletes = history.filter((e): e is Delete => e.type === 'delete').sort((x, y) => startOf(x) - startOf(y));
  const covered = new Map<string, Set<string>>(); // elements seen by deletes that started before the window
  const isCovered = (add: Add) => covered.get(add.key)?.has(add.element) ?? false;
  let pool: Add[] = []; // acknowledged adds not covered yet
  let nextAdd = 0;
  let nextDelete = 0;
  let judged = 0;
  let misses = 0;
  const examples: string[] = [];
  for (let i = 0; i < reads.length; ) {
    const a = reads[i]!.startMs!;
    let j = i;
    while (j < reads.length && reads[j]!.startMs! < a + windowMs) j++;
    const window = reads.slice(i, j);
    const lastStart = window[window.length - 1]!.startMs!;
    const lastEnd = window.reduce((most, r) => Math.max(most, r.endMs ?? Infinity), -Infinity);
    const coveredBefore = nextDelete;
    for (; nextDelete < deletes.length && startOf(deletes[nextDelete]!) < a; nextDelete++) {
      const d = deletes[nextDelete]!;
      const set = covered.get(d.key) ?? new Set<string>();
      for (const element of d.seen) set.add(element);
      covered.set(d.key, set);
    }
    if (nextDelete !== coveredBefore) pool = pool.filter((add) => !isCovered(add));
    for (; nextAdd < adds.length && adds[nextAdd]!.endMs! <= lastStart; nextAdd++) if (!isCovered(adds[nextAdd]!)) pool.push(adds[nextAdd]!);
    const relevantDeletes: Delete[] = [];
    for (let k = nextDelete; k < deletes.length && startOf(deletes[k]!) < lastEnd; k++) relevantDeletes.push(deletes[k]!);
    const part = readYourWrites([...pool, ...relevantDeletes, ...window]);
    judged += part.reads;
    misses += part.misses;
    examples.push(...part.examples.slice(0, Math.max(0, 10 - examples.length)));
    i = j;
  }
  return { reads: judged, misses, missRate: judged === 0 ? 0 : misses / judged, examples };
}

export async function faultRun(t: TestLike, options: FaultRunOptions): Promise<FaultReport> {
  const membership = options.membership ?? false;
  if (membership) ensureFaketime(); // clock steps need it: fail now, with the reason, not later
  const cluster = await FaultCluster.start(t, { nodes: options.nodes, n: options.n, args: nodeArgs(membership) });
  t.teardown(() => cluster.close());
  const keys = Array.from({ length: options.keys }, (_, i) => `set-${i}`);
  const history: HistoryEvent[] = [];
  // Two keys the workers never touch, written before any fault and deleted after the heal:
  // they always exercise the no-resurrection rule (keys the workers used may have an
  // indeterminate add that excludes them).
  const tombKeys = ['tomb-0', 'tomb-1'];
  for (const key of tombKeys) {
    const startMs = Date.now();
    await cluster.client().put(key, JSON.stringify([`${key}-seed`]), { w: options.n });
    history.push({ type: 'add', key, element: `${key}-seed`, ok: true, startMs, endMs: Date.now() });
  }
  const startedAt = Date.now();
  const until = startedAt + options.durationMs;
  // The nemesis has its own PRNG so the fault schedule does not depend on the workers' pace.
  const [operations, log] = await Promise.all([
    Promise.all(Array.from({ length: options.workers }, (_, i) => worker(() => cluster.client(), i, keys, until, random(options.seed * 31 + i + 1), history))).then((counts) => counts.reduce((a, b) => a + b, 0)),
    runNemesis(cluster, { membership, graceMs: MEMBERSHIP_GRACE_MS, until: until - 1_000, rng: random(options.seed) }),
  ]);
  // Heal: every node running on the real clock, resumed and connected, leaves finished, gossip
  // converged, handoff and hints settled; then the quiet phase and the final reads.
  const settleProblems = [...(await cluster.heal()), ...(await settle(cluster))];
  return finish(cluster, options, keys, tombKeys, history, operations, log, settleProblems, startedAt);
}

async function finish(
  cluster: FaultCluster,
  options: FaultRunOptions,
  keys: string[],
  tombKeys: string[],
  history: HistoryEvent[],
  operations: number,
  log: NemesisLog,
  settleProblems: string[],
  startedAt: number,
): Promise<FaultReport> {
  const client = cluster.client();
  // Quiet phase: delete a quarter of the keys with a fresh context and nothing else running;
  // those keys must then read as not found (no resurrection).
  for (const key of [...tombKeys, ...keys.slice(0, Math.max(1, Math.floor(keys.length / 4)))]) {
    const readStartMs = Date.now();
    const read = await client.get(key, { r: options.n, timeoutMs: 5_000 });
    history.push(await deleteKey(client, key, union(read.siblings), read.context === undefined ? {} : { context: read.context }, readStartMs));
  }
  const healedAt = Date.now();
  const final = new Map<string, FinalKey>();
  for (const key of [...keys, ...tombKeys]) {
    await client.get(key, { r: options.n, timeoutMs: 5_000 });
    let replicas: string[] = [];
    await waitFor(async () => {
      replicas = await replicaStates(cluster, key);
      return new Set(replicas).size === 1 || undefined;
    }, 15_000, `replicas of ${key} converge`).catch(() => undefined);
    const read = await client.get(key, { r: options.n, timeoutMs: 5_000 });
    final.set(key, { elements: union(read.siblings), replicas });
  }
  const verdict = check(history, final, 64);
  const seconds = (ms: number | undefined) => (ms === undefined ? '?' : ((ms - startedAt) / 1000).toFixed(1));
  const lostAt = verdict.lost.map((lost) => {
    const add = history.find((e) => e.type === 'add' && `${e.key}/${e.element}` === lost);
    return `${lost} (sent ${seconds(add?.startMs)} s, acknowledged ${seconds(add?.endMs)} s)`;
  });
  return {
    verdict,
    lostAt,
    readYourWrites: readYourWritesWindowed(history),
    operations,
    faults: log.counts,
    faultLog: log.lines,
    convergeMs: Date.now() - healedAt,
    settleProblems,
    finalRing: cluster.ring().map((m) => m.id).join(', '),
  };
}
