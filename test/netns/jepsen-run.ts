/**
 * Jepsen-style runs against real processes on the multi-host tier's hosts (issues 15 and 17,
 * acceptance; docs/testing.md): a node per network namespace, a seeded nemesis of real faults
 * (kill -9 and restart, SIGSTOP/SIGCONT, nftables partitions; with `membership`, a node leaving
 * and its host joining as a new member) under one of two workloads:
 *
 * - `dt`: counters, sets and a map (dt-workload.ts); after the heal every key is read at R = N
 *   through every host until all agree, and each host's values are judged by the data-type
 *   checker (test/fault/dt-checker.ts: counters within bounds, no acknowledged add lost, nothing
 *   invented, nothing an acknowledged removal saw back).
 * - `cas`: a CAS register (cas-workload.ts); after the heal every key is read linearizably
 *   through every host, and the whole history goes to the linearizability checker.
 *
 * Everything the run makes (namespaces, veths, the bridge, nftables tables, processes) is
 * removed from t.teardown and from the process's 'exit' handler; the last subtest checks it.
 */
import type { Test } from 'tap';
import { RingkvClient } from '@ringkv/client';
import { pidAlive, waitFor } from '../helpers/process.js';
import { random } from '../fault/harness.js';
import { checkDataTypes, finalFromValues, type DtVerdict } from '../fault/dt-checker.js';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLinearizable, describeOperation, type Operation, type Verdict } from '../../packages/node/dist/testing/linearizability/index.js';
import { ensurePrerequisites } from './prerequisites.js';
import { HostNetwork, sweepStale } from './network.js';
import { NetnsCluster } from './hosts.js';
import { MEMBERSHIP_KINDS, runNetnsNemesis, type FaultKind, type NemesisResult } from './nemesis.js';
import { DT_KEYS, runDtWorkload } from './dt-workload.js';
import { runCasWorkload } from './cas-workload.js';
import { formatOpFigures, opFigures, type OpSample } from './op-log.js';

export type JepsenWorkload = 'dt' | 'cas';

export interface JepsenOptions {
  readonly workload: JepsenWorkload;
  /** Fault time to inject, in s. */
  readonly seconds: number;
  readonly seed: number;
  /** Hosts (nodes) in the ring, 3 to 5. */
  readonly hosts: number;
  /** Adds leaves and joins (`rejoin`) to the nemesis. */
  readonly membership: boolean;
  /** How long each fault is held, [min, max) ms. */
  readonly holdMs: readonly [number, number];
}

const N = 3;
const TIMEOUT_MS = 5_000;
const WORKERS = 8;
/** The process faults and real partitions: a quorum side always remains. */
export const JEPSEN_KINDS: readonly FaultKind[] = ['kill', 'pause', 'split', 'isolated', 'one-way', 'restart-isolated'];

/** The options from the environment: NETNS_SECONDS, NETNS_SEED, NETNS_HOSTS, NETNS_MEMBERSHIP=1. */
export function optionsFromEnv(workload: JepsenWorkload, defaults: { seconds: number; holdMs: readonly [number, number] }): JepsenOptions {
  const hosts = Number(process.env.NETNS_HOSTS ?? 5);
  if (!Number.isInteger(hosts) || hosts < 3 || hosts > 5) throw new Error(`NETNS_HOSTS must be 3, 4 or 5 (got ${process.env.NETNS_HOSTS})`);
  return {
    workload,
    seconds: Number(process.env.NETNS_SECONDS ?? defaults.seconds),
    seed: Number(process.env.NETNS_SEED ?? Date.now() % 100_000),
    hosts,
    membership: process.env.NETNS_MEMBERSHIP === '1',
    holdMs: process.env.NETNS_SECONDS === undefined ? defaults.holdMs : [4_000, 8_000],
  };
}

/** Makes the hosts and the ring; every part is removed on the way out, failure included. */
async function setUp(t: Test, hosts: number): Promise<{ network: HostNetwork; cluster: NetnsCluster; clients: RingkvClient[]; closeClients: () => Promise<unknown> }> {
  const tools = ensurePrerequisites();
  const swept = sweepStale();
  const network = HostNetwork.create(hosts);
  process.once('exit', () => network.destroy()); // also when tap ends the process before teardowns ran
  t.teardown(() => network.destroy());
  t.comment(`hosts ${network.names.namespace(1)}…${hosts} on ${network.names.subnet}.0/24; ${tools.nft}, ${tools.libfaketime}`);
  if (swept.length > 0) t.comment(`removed leftovers of crashed runs: ${swept.join(', ')}`);
  const cluster = await NetnsCluster.start(t, network, { n: N, args: [] });
  // One client per host, no failover, no key-aware routing: the host a request goes to coordinates it.
  const clients = cluster.hosts.map((h) => new RingkvClient({ urls: [h.url], keyAware: false, retries: 0, timeoutMs: TIMEOUT_MS }));
  const open = [...clients];
  const closeClients = () => Promise.all(open.splice(0).map((c) => c.close())); // once: a closed client throws on close
  t.teardown(closeClients);
  return { network, cluster, clients, closeClients };
}

function reportNemesis(t: Test, nemesis: NemesisResult, kinds: readonly FaultKind[], seed: number): void {
  const byKind: Record<string, number> = {};
  for (const fault of nemesis.faults) byKind[fault.kind] = (byKind[fault.kind] ?? 0) + 1;
  t.comment(`seed ${seed}: faults ${JSON.stringify(byKind)}, held ${(nemesis.faults.reduce((a, f) => a + f.activeMs, 0) / 1000).toFixed(1)} s`);
  t.same(kinds.filter((kind) => !byKind[kind]), [], 'every fault kind was injected');
  t.same(nemesis.faults.filter((f) => f.healMs === undefined).map((f) => `${f.kind} (${f.detail})`), [], 'the membership healed within 60 s after every fault');
}

function reportFigures(t: Test, samples: readonly OpSample[], durationMs: number): void {
  for (const line of formatOpFigures(opFigures(samples, durationMs))) t.comment(`figures ${line}`);
}

/** Reads every data-type key at R = N through every host until all hosts agree (60 s). */
async function dtFinalReads(cluster: NetnsCluster, clients: readonly RingkvClient[]): Promise<Array<Map<string, unknown>>> {
  let last: Array<Map<string, unknown>> = [];
  await waitFor(async () => {
    last = await Promise.all(clients.map(async (client) => new Map(await Promise.all(DT_KEYS.map(async (key) => [key, (await client.dtGet(key, { r: N, timeoutMs: TIMEOUT_MS }))?.value] as const)))));
    return new Set(last.map((values) => JSON.stringify([...values]))).size === 1;
  }, 60_000, `every host to read the same data types at r=${N}`, 250).catch(() => undefined);
  return last;
}

function judgeDt(t: Test, host: string, verdict: DtVerdict): void {
  t.comment(`${host}: ${verdict.counters.map((c) => `${c.name} ${c.value} in [${c.low}, ${c.high}]`).join(', ')}`);
  t.same(verdict.drifted, [], `${host}: every counter and map counter field within [Σ acknowledged + Σ unknown decrements, Σ acknowledged + Σ unknown increments]`);
  t.same(verdict.lost, [], `${host}: every acknowledged add not removed by a removal that saw it is present`);
  t.same(verdict.invented, [], `${host}: nothing present that no add wrote`);
  t.same(verdict.resurrected, [], `${host}: nothing an acknowledged removal saw came back`);
}

async function dtRun(t: Test, cluster: NetnsCluster, clients: readonly RingkvClient[], options: JepsenOptions, nemesisRun: () => Promise<NemesisResult>): Promise<NemesisResult> {
  let stop = false;
  const startedAt = Date.now();
  const load = runDtWorkload({ clients, workers: WORKERS, seed: options.seed, timeoutMs: TIMEOUT_MS, opsMax: options.seconds * 500, stopped: () => stop });
  const nemesis = await nemesisRun().finally(() => (stop = true));
  const { events, samples } = await load;
  reportFigures(t, samples, Date.now() - startedAt);
  const reads = await dtFinalReads(cluster, clients);
  t.equal(new Set(reads.map((values) => JSON.stringify([...values]))).size, 1, `every host reads the same values at r=${N} after the heal`);
  for (const [i, values] of reads.entries()) {
    const verdict = checkDataTypes(events, finalFromValues(values));
    if (i === 0) t.comment(`dt: ${verdict.acknowledged} writes acknowledged, ${verdict.unknown} unknown, ${verdict.failed} failed; lost ${verdict.lost.length}, invented ${verdict.invented.length}, resurrected ${verdict.resurrected.length}, counters out of bounds ${verdict.drifted.length}`);
    judgeDt(t, cluster.hosts[i]!.id, verdict);
  }
  t.ok(events.filter((e) => e.outcome === 'acked').length > 50, 'the workload made progress through the faults');
  return nemesis;
}

/** A linearizable read of every key through every host, after the heal, added to the history. */
async function casFinalReads(clients: readonly RingkvClient[], keys: readonly string[], history: Operation[]): Promise<number> {
  let failed = 0;
  await Promise.all(clients.map(async (client, i) => {
    for (const key of keys) {
      const invokedAt = performance.now();
      try {
        const read = await client.getConsistent(key, { timeoutMs: TIMEOUT_MS });
        const value = read.found ? Buffer.from(read.value).toString('utf8') : null;
        history.push({ process: `final-${i}`, key, call: { kind: 'read' }, invokedAt, outcome: { status: 'ok', completedAt: performance.now(), result: { kind: 'read', value, version: read.version } } });
      } catch {
        failed++;
      }
    }
  }));
  return failed;
}

async function casRun(t: Test, clients: readonly RingkvClient[], options: JepsenOptions, nemesisRun: () => Promise<NemesisResult>): Promise<NemesisResult> {
  let stop = false;
  const startedAt = performance.now();
  const load = runCasWorkload({ clients, workers: WORKERS, seed: options.seed, timeoutMs: TIMEOUT_MS, opsMax: options.seconds * 500, keysLive: 3, opsPerKey: 150, stopped: () => stop });
  const nemesis = await nemesisRun().finally(() => (stop = true));
  const { history, samples, codes } = await load;
  reportFigures(t, samples, performance.now() - startedAt);
  const keys = [...new Set(history.map((op) => op.key))].sort();
  const finalFailed = await casFinalReads(clients, keys, history);
  t.equal(finalFailed, 0, `every key reads linearizably through every host after the heal (${keys.length} keys)`);
  const checkStartedAt = Date.now();
  const verdict = checkLinearizable(history);
  const sets = history.filter((op) => op.call.kind !== 'read');
  const applied = sets.filter((op) => op.outcome.status === 'ok' && op.outcome.result.kind === 'cas' && op.outcome.result.ok).length;
  t.comment(`cas: ${history.length} operations on ${keys.length} keys, ${sets.length} sets (${applied} applied, ${sets.filter((op) => op.outcome.status === 'unknown').length} unknown); checker: ${verdict.kind}, ${verdict.steps} steps in ${Date.now() - checkStartedAt} ms`);
  if (verdict.kind === 'violation') reportViolation(t, history, verdict, codes, options.seed);
  t.equal(verdict.kind, 'ok', verdict.kind === 'violation' ? `linearizability violation on ${verdict.key}:\n${verdict.report}` : verdict.kind === 'unknown' ? `the checker ran out of steps on ${verdict.unknownKeys.join(', ')}` : 'the history is linearizable');
  t.ok(applied > 20, `the workload made progress through the faults (${applied} sets applied)`);
  return nemesis;
}

/**
 * What a violation needs for its diagnosis, besides the checker's explanation: the operations
 * that wrote the value the stuck operation saw (with the error that ended them, if any), and
 * the key's whole history in a JSON file.
 */
function reportViolation(t: Test, history: readonly Operation[], verdict: Extract<Verdict, { kind: 'violation' }>, codes: ReadonlyMap<string, string>, seed: number): void {
  const ops = history.filter((op) => op.key === verdict.key);
  const stuck = ops[verdict.explanation.stuck]!;
  const seen = stuck.outcome.status === 'ok' && stuck.outcome.result.kind === 'read' ? stuck.outcome.result.value : undefined;
  for (const op of ops.filter((o) => o.call.kind !== 'read' && o.call.value === seen)) {
    t.comment(`the value the stuck operation saw was written by: ${describeOperation(op)}${op.call.kind !== 'read' && codes.has(op.call.value) ? `, ended by ${codes.get(op.call.value)}` : ''}`);
  }
  const file = join(tmpdir(), `ringkv-jepsen-cas-${seed}-${verdict.key}.json`);
  writeFileSync(file, JSON.stringify(ops.map((op) => ({ ...op, code: op.call.kind === 'read' ? undefined : codes.get(op.call.value) })), null, 1));
  t.comment(`the key's history (${ops.length} operations): ${file}`);
}

/** One Jepsen-style run as tap subtests: the faults and the checks, then the cleanup check. */
export async function runJepsen(t: Test, options: JepsenOptions): Promise<void> {
  t.setTimeout((options.seconds * 3 + 600) * 1000);
  const kinds = options.membership ? [...JEPSEN_KINDS, ...MEMBERSHIP_KINDS] : JEPSEN_KINDS;
  const { network, cluster, clients, closeClients } = await setUp(t, options.hosts);
  const title = `${options.workload}: ${options.seconds} s of ${kinds.join(', ')} on ${options.hosts} hosts (N=${N}), seed ${options.seed}`;
  await t.test(title, async (t) => {
    t.comment(`replay the schedule: NETNS_SEED=${options.seed} NETNS_SECONDS=${options.seconds} NETNS_HOSTS=${options.hosts}${options.membership ? ' NETNS_MEMBERSHIP=1' : ''} tap test/netns/jepsen-${options.workload}.ts`);
    const nemesisRun = () => runNetnsNemesis(cluster, { rng: random(options.seed), faultMs: options.seconds * 1000, kinds, holdMs: options.holdMs, log: (line) => t.comment(`fault ${line}`) });
    const nemesis = options.workload === 'dt' ? await dtRun(t, cluster, clients, options, nemesisRun) : await casRun(t, clients, options, nemesisRun);
    reportNemesis(t, nemesis, kinds, options.seed);
  });
  await t.test('cleanup leaves no namespace, link or process behind', async (t) => {
    const pids = cluster.hosts.map((h) => h.proc.pid);
    await closeClients();
    network.destroy();
    t.same(network.leftovers(), [], 'no namespace or link of this run is left');
    t.same(pids.filter(pidAlive), [], 'every node process is gone');
  });
}
