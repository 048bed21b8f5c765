/**
 * The set workload of the fault harness (test/fault/harness.ts: read-modify-write adds of
 * unique elements with contexts, siblings merged by union, 3 % deletes with the read's
 * context), instrumented for the availability figures: besides the checker's history, every
 * request leaves a sample with its coordinator, start, end, HTTP status and error code.
 *
 * Each read-modify-write goes through one `Route` (the read and the write to the same
 * coordinator): in the nemesis phase a client per host with no failover and no key-aware
 * routing, so the node a request was sent to is the node that coordinated it; in the rolling
 * restart one client over every host with the library's own failover.
 */
import { RingkvError, type RingkvClient } from '@ringkv/client';
import { random, union } from '../fault/harness.js';
import type { HistoryEvent } from '../fault/checker.js';

export interface Sample {
  readonly op: 'get' | 'put' | 'delete';
  readonly key: string;
  /** The node the request was sent to ('any' when the client chose). */
  readonly coordinator: string;
  readonly startMs: number;
  readonly endMs: number;
  /** The answer's HTTP status; 0 when none came (refused, reset, timed out). */
  readonly status: number;
  /** The error code for a failure (the server's, or the client's KV_ERR_UNREACHABLE / KV_ERR_OUTCOME_UNKNOWN). */
  readonly code?: string;
  /** The failure's message (first 160 characters): what a diagnosis needs. */
  readonly message?: string;
  /** For a write the node handed to another to coordinate (504 outcome unknown): that node. */
  readonly forwardedTo?: string;
  readonly ok: boolean;
}

export interface Route {
  readonly client: RingkvClient;
  readonly coordinator: string;
}

export interface WorkloadOptions {
  readonly keys: readonly string[];
  readonly workers: number;
  readonly seed: number;
  /** Per-request timeout (the server's timeout_ms; the client waits a second longer). */
  readonly timeoutMs: number;
  /** W for writes (default: the server's quorum). */
  readonly w?: number;
  /** The route of the next read-modify-write. */
  readonly route: (rng: () => number) => Route;
  /** True once the workload should stop. */
  readonly stopped: () => boolean;
}

export interface WorkloadResult {
  readonly history: HistoryEvent[];
  readonly samples: Sample[];
}

const DELETE_SHARE = 0.03;

/** Runs `call`, recording its sample; answers its result, or undefined when it failed. */
async function timed<T>(samples: Sample[], what: Pick<Sample, 'op' | 'key' | 'coordinator'>, call: () => Promise<T>): Promise<{ ok: boolean; value?: T; startMs: number; endMs: number }> {
  const startMs = Date.now();
  try {
    const value = await call();
    const endMs = Date.now();
    samples.push({ ...what, startMs, endMs, status: what.op === 'get' ? 200 : 204, ok: true });
    return { ok: true, value, startMs, endMs };
  } catch (error) {
    const endMs = Date.now();
    const coded = error instanceof RingkvError ? error : undefined;
    const message = String((error as Error).message ?? error).slice(0, 160);
    const forwardedTo = typeof coded?.details.forwardedTo === 'string' ? coded.details.forwardedTo : undefined;
    samples.push({ ...what, startMs, endMs, status: coded?.status ?? 0, code: coded?.code ?? `unexpected: ${message}`, message, ...(forwardedTo === undefined ? {} : { forwardedTo }), ok: false });
    return { ok: false, startMs, endMs };
  }
}

async function worker(id: number, options: WorkloadOptions, result: WorkloadResult): Promise<void> {
  const rng = random(options.seed * 31 + id + 1);
  const { history, samples } = result;
  const timeoutMs = options.timeoutMs;
  for (let n = 0; !options.stopped(); n++) {
    const key = options.keys[Math.floor(rng() * options.keys.length)]!;
    const { client, coordinator } = options.route(rng);
    const read = await timed(samples, { op: 'get', key, coordinator }, () => client.get(key, { timeoutMs }));
    if (!read.ok || read.value === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // a failed read: back off a little, as an application would
      continue;
    }
    const seen = union(read.value.siblings);
    history.push({ type: 'read', key, siblings: read.value.siblings.length, elements: seen, startMs: read.startMs, endMs: read.endMs });
    const context = read.value.context === undefined ? {} : { context: read.value.context };
    const w = options.w === undefined ? {} : { w: options.w };
    if (rng() < DELETE_SHARE) {
      // A delete covers what its read saw: it starts when the read did (harness.ts, deleteKey).
      const deleted = await timed(samples, { op: 'delete', key, coordinator }, () => client.delete(key, { ...context, ...w, timeoutMs }));
      history.push({ type: 'delete', key, seen, ok: deleted.ok, startMs: read.startMs, endMs: deleted.endMs });
      continue;
    }
    const element = `w${id}-${n}`;
    const put = await timed(samples, { op: 'put', key, coordinator }, () => client.put(key, JSON.stringify([...seen, element]), { ...context, ...w, timeoutMs }));
    // A failed add is indeterminate: it may still land at any time.
    history.push({ type: 'add', key, element, ok: put.ok, startMs: put.startMs, endMs: put.ok ? put.endMs : Infinity });
  }
}

/** Runs the workers until `stopped()`; answers the history and the samples. */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const result: WorkloadResult = { history: [], samples: [] };
  await Promise.all(Array.from({ length: options.workers }, (_, i) => worker(i, options, result)));
  return result;
}
