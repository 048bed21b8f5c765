/**
 * The CAS-register workload of the Jepsen-style multi-host run (issue 17, acceptance; Jepsen's
 * cas-register): workers read registers linearizably (`GET ?consistent=1`, value and version)
 * and set them with compare-and-set, by version (`?if_version=V`, V the version the worker saw
 * last) or as a claim (`?if_absent=1`), each value unique, each request sent to one host picked
 * at random (one client per host, no failover: the host is the coordinator). The client
 * library retries a set whose outcome is unknown with the same request id (at most once:
 * docs/cas.md); the operation spans all its sends. Every operation's invocation, completion and
 * outcome go into the history the linearizability checker reads
 * (packages/node/src/testing/linearizability/), and its times into the figures (op-log.ts).
 *
 * Keys rotate, as Jepsen's `independent` keys do: every `opsPerKey` × `keysLive` operations the
 * workers move on to fresh keys, so each key's history stays small enough for the checker's
 * search (which is exponential in the concurrency of one key, not in the run's length).
 */
import { performance } from 'node:perf_hooks';
import type { RingkvClient } from '@ringkv/client';
import { random } from '../fault/harness.js';
import type { Operation, Outcome, RegisterCall } from '../../packages/node/dist/testing/linearizability/index.js';
import { codeOfError, outcomeOfError, type OpSample } from './op-log.js';

export interface CasWorkloadOptions {
  /** One client per host; a request goes to one of them. */
  readonly clients: readonly RingkvClient[];
  readonly workers: number;
  readonly seed: number;
  readonly timeoutMs: number;
  /** Operations per worker at most. */
  readonly opsMax: number;
  /** Keys in use at a time, and operations on each before the workers move on. */
  readonly keysLive: number;
  readonly opsPerKey: number;
  readonly stopped: () => boolean;
}

export interface CasWorkloadResult {
  readonly history: Operation[];
  readonly samples: OpSample[];
  /** The error code that ended each operation that did not succeed, by its value (sets) or index (reads): for a violation's report. */
  readonly codes: Map<string, string>;
  /** Operations started so far (the key rotation's clock). */
  started: number;
}

/** The client's view of an operation's end, as the checker's Outcome. */
function failure(error: unknown): Outcome {
  return outcomeOfError(error) === 'failed' ? { status: 'failed', completedAt: performance.now() } : { status: 'unknown' };
}

async function one(client: RingkvClient, key: string, call: RegisterCall, timeoutMs: number, seen: Map<string, number>): Promise<Outcome> {
  if (call.kind === 'read') {
    const read = await client.getConsistent(key, { timeoutMs });
    seen.set(key, read.version);
    const value = read.found ? Buffer.from(read.value).toString('utf8') : null;
    return { status: 'ok', completedAt: performance.now(), result: { kind: 'read', value, version: read.version } };
  }
  if (call.kind !== 'cas' && call.kind !== 'cas-version') throw new Error(`no ${call.kind} in this workload`);
  const condition = call.kind === 'cas' ? { ifAbsent: true } : { ifVersion: call.expected };
  const result = await client.cas(key, call.value, { ...condition, timeoutMs });
  seen.set(key, result.version);
  return { status: 'ok', completedAt: performance.now(), result: { kind: 'cas', ok: result.applied } };
}

async function worker(id: number, options: CasWorkloadOptions, result: CasWorkloadResult): Promise<void> {
  const rng = random(options.seed * 41 + id + 1);
  const seen = new Map<string, number>(); // the version this worker saw last, per key
  for (let n = 0; n < options.opsMax && !options.stopped(); n++) {
    const generation = Math.floor(result.started++ / (options.opsPerKey * options.keysLive));
    const key = `reg-${generation}-${Math.floor(rng() * options.keysLive)}`;
    const client = options.clients[Math.floor(rng() * options.clients.length)]!;
    const roll = rng();
    const value = `w${id}.${n}`;
    const call: RegisterCall = roll < 0.35 ? { kind: 'read' } : roll < 0.85 ? { kind: 'cas-version', expected: seen.get(key) ?? 0, value } : { kind: 'cas', expected: null, value };
    const op = call.kind === 'read' ? 'read' : call.kind === 'cas' ? 'cas-absent' : 'cas-version';
    const invokedAt = performance.now();
    let outcome: Outcome;
    let code: string | undefined;
    try {
      outcome = await one(client, key, call, options.timeoutMs, seen);
    } catch (error) {
      outcome = call.kind === 'read' ? { status: 'unknown' } : failure(error); // an unanswered read is dropped by the checker
      code = codeOfError(error);
    }
    if (code !== undefined && call.kind !== 'read') result.codes.set(call.value, code);
    result.history.push({ process: `w${id}`, key, call, invokedAt, outcome });
    const endMs = outcome.status === 'unknown' ? performance.now() : outcome.completedAt;
    const sampled = outcome.status === 'ok' ? 'acked' : call.kind === 'read' ? 'failed' : outcome.status;
    result.samples.push({ op, startMs: invokedAt, endMs, outcome: sampled, ...(code === undefined ? {} : { code }) });
    if (outcome.status !== 'ok') await new Promise((resolve) => setTimeout(resolve, 50)); // back off a little, as an application would
  }
}

/** Runs the workers until `stopped()` (or each made `opsMax` operations). */
export async function runCasWorkload(options: CasWorkloadOptions): Promise<CasWorkloadResult> {
  const result: CasWorkloadResult = { history: [], samples: [], codes: new Map(), started: 0 };
  await Promise.all(Array.from({ length: options.workers }, (_, i) => worker(i, options, result)));
  return result;
}
