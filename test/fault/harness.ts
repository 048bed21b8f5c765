/**
 * The real-process fault harness (issue 6): a ring of node processes on loopback, a set
 * workload through the client library (read-modify-write with contexts, siblings merged by
 * union, occasional deletes with context), and a nemesis that SIGKILLs and restarts nodes and
 * SIGSTOPs/SIGCONTs them, one fault at a time. After the run every fault is healed, each key
 * is read at R = N (read repair brings the replicas level), and the history goes to the
 * checker. Partitions are injected through each node's fault layer (`--fault-injection`,
 * POST /internal/faults): both the replication transport and gossip stop reaching the other
 * side, as across a real network split.
 */
import { RingkvClient, type Sibling } from '@ringkv/client';
import { internalHeaders } from '@ringkv/node';
import { DEFAULT_SECRET, http, httpAgent, stopByPid, waitFor, type NodeProcess, type TestLike } from '../helpers/process.js';
import { restartNode, startRing, waitConverged } from '../helpers/ring.js';
import { check, type FinalKey, type HistoryEvent, type Verdict } from './checker.js';

export interface FaultRunOptions {
  readonly nodes: number;
  readonly n: number;
  readonly keys: number;
  readonly workers: number;
  readonly durationMs: number;
  readonly seed: number;
}

export interface FaultReport {
  readonly verdict: Verdict;
  readonly operations: number;
  readonly faults: Record<string, number>;
  readonly convergeMs: number;
}

/** A small seeded PRNG so a run's fault schedule can be replayed (timing still varies). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), state | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function union(siblings: readonly Sibling[]): string[] {
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
async function deleteKey(client: RingkvClient, key: string, seen: string[], context: { context?: string }, readStartMs: number): Promise<HistoryEvent> {
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

async function worker(client: RingkvClient, id: number, keys: string[], until: number, rng: () => number, history: HistoryEvent[]): Promise<number> {
  let ops = 0;
  for (let n = 0; Date.now() < until && n < 100_000; n++) {
    const key = keys[Math.floor(rng() * keys.length)]!;
    let read;
    const readStartMs = Date.now();
    try {
      read = await client.get(key, { timeoutMs: 2_000 });
    } catch {
      await sleep(50);
      continue;
    }
    history.push({ type: 'read', key, siblings: read.siblings.length });
    const seen = union(read.siblings);
    const context = read.context === undefined ? {} : { context: read.context };
    ops++;
    if (rng() < 0.03) {
      history.push(await deleteKey(client, key, seen, context, readStartMs));
      continue;
    }
    const element = `w${id}-${n}`;
    const event = { type: 'add' as const, key, element, ok: false, startMs: Date.now(), endMs: Infinity };
    try {
      await client.put(key, JSON.stringify([...seen, element]), { ...context, timeoutMs: 2_000 });
      event.ok = true;
    } catch {
      // Indeterminate.
    }
    event.endMs = event.ok ? Date.now() : Infinity; // a failed add may still land at any time
    history.push(event);
  }
  return ops;
}

const FAULT_ARGS = ['--fault-injection'];

/** Cuts (or, with empty groups, heals) traffic between two groups of nodes, both ways. */
async function partition(agent: ReturnType<typeof httpAgent>, ring: readonly NodeProcess[], side: ReadonlySet<string>): Promise<void> {
  for (const node of ring) {
    const block = side.size === 0 ? [] : ring.filter((other) => side.has(other.id) !== side.has(node.id)).map((other) => other.id);
    const body = Buffer.from(JSON.stringify({ block }));
    const headers = { 'content-type': 'application/json', ...(await internalHeaders(node.url, DEFAULT_SECRET, 'nemesis', '/internal/faults', body)) };
    const answer = await http(agent, 'POST', `${node.url}/internal/faults`, { headers, body });
    if (answer.status !== 200) throw new Error(`${node.id} refused the fault plan: ${answer.status} ${answer.body.toString()}`);
  }
}

async function nemesis(t: TestLike, ring: NodeProcess[], n: number, until: number, rng: () => number, faults: Record<string, number>): Promise<void> {
  const agent = httpAgent(t);
  while (Date.now() < until) {
    await sleep(1_500 + rng() * 1_500);
    if (Date.now() >= until) break;
    const index = Math.floor(rng() * ring.length);
    const target = ring[index]!;
    const dice = rng();
    if (dice < 0.25) {
      faults.partition = (faults.partition ?? 0) + 1;
      const minority = new Set([target.id, ring[(index + 1 + Math.floor(rng() * (ring.length - 1))) % ring.length]!.id]);
      await partition(agent, ring, minority);
      await sleep(2_000 + rng() * 3_000);
      await partition(agent, ring, new Set());
    } else if (dice < 0.6) {
      faults.kill = (faults.kill ?? 0) + 1;
      await stopByPid(target.pid, 0);
      await sleep(1_000 + rng() * 1_000);
      await restartNode(t, target, ring, n, FAULT_ARGS);
    } else {
      faults.pause = (faults.pause ?? 0) + 1;
      process.kill(target.pid, 'SIGSTOP');
      await sleep(500 + rng() * 1_000);
      process.kill(target.pid, 'SIGCONT');
    }
  }
}

/** Each replica's versions of a key, comparable as strings. */
async function replicaStates(agent: ReturnType<typeof httpAgent>, ring: readonly NodeProcess[], key: string): Promise<string[]> {
  const pref = (await http(agent, 'GET', `${ring[0]!.url}/admin/preflist/${encodeURIComponent(key)}`)).json as { preferenceList: Array<{ id: string }> };
  const states: string[] = [];
  for (const { id } of pref.preferenceList) {
    const node = ring.find((m) => m.id === id)!;
    const local = await http(agent, 'GET', `${node.url}/admin/local/${encodeURIComponent(key)}`);
    const siblings = local.status === 200 ? ((local.json as { siblings: Array<{ value?: string; deleted?: boolean }> }).siblings) : [];
    states.push(JSON.stringify(siblings.map((s) => (s.deleted ? '<deleted>' : s.value)).sort()));
  }
  return states;
}

export async function faultRun(t: TestLike, options: FaultRunOptions): Promise<FaultReport> {
  const rng = random(options.seed);
  const ring = await startRing(t, { nodes: options.nodes, n: options.n, extraArgs: FAULT_ARGS });
  const agent = httpAgent(t);
  const client = new RingkvClient({ urls: ring.map((node) => node.url), timeoutMs: 2_000, retries: 4 });
  t.teardown(() => client.close());
  const keys = Array.from({ length: options.keys }, (_, i) => `set-${i}`);
  const history: HistoryEvent[] = [];
  // Two keys the workers never touch, written before any fault and deleted after the heal:
  // they always exercise the no-resurrection rule (keys the workers used may have an
  // indeterminate add that excludes them).
  const tombKeys = ['tomb-0', 'tomb-1'];
  for (const key of tombKeys) {
    const startMs = Date.now();
    await client.put(key, JSON.stringify([`${key}-seed`]), { w: options.n });
    history.push({ type: 'add', key, element: `${key}-seed`, ok: true, startMs, endMs: Date.now() });
  }
  const faults: Record<string, number> = {};
  const until = Date.now() + options.durationMs;
  const [operations] = await Promise.all([
    Promise.all(Array.from({ length: options.workers }, (_, i) => worker(client, i, keys, until, rng, history))).then((counts) => counts.reduce((a, b) => a + b, 0)),
    nemesis(t, ring, options.n, until - 1_000, rng, faults),
  ]);
  // Heal: every node running, resumed and connected, gossip converged, then read every key at R = N.
  for (const node of ring) process.kill(node.pid, 'SIGCONT');
  await partition(agent, ring, new Set());
  await waitConverged(t, ring, ring.length);
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
      replicas = await replicaStates(agent, ring, key);
      return new Set(replicas).size === 1 || undefined;
    }, 15_000, `replicas of ${key} converge`).catch(() => undefined);
    const read = await client.get(key, { r: options.n, timeoutMs: 5_000 });
    final.set(key, { elements: union(read.siblings), replicas });
  }
  const convergeMs = Date.now() - healedAt;
  return { verdict: check(history, final, 64), operations, faults, convergeMs };
}
