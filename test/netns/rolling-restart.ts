/**
 * A rolling restart of every host under load (issue 16, point 6; docs/deploy.md's procedure):
 * the set workload runs through one client over all hosts (the library's failover and
 * key-aware routing, W = 2) while each node in turn gets SIGTERM, is waited on until it exits,
 * is started again on its data dir and is waited on until GET /readyz answers 200; then the
 * next. Afterwards no acknowledged write may be lost (the caller runs the checker), and no
 * request may have failed that the client could have retried safely: every failure counts
 * except writes the client marked KV_ERR_OUTCOME_UNKNOWN (sent, no answer: repeating them
 * could apply them twice, so the library leaves the decision to the caller). A failed read
 * counts: the client retries reads on any failure, so one that failed found no node to serve it.
 */
import type { RingkvClient } from '@ringkv/client';
import type { HistoryEvent } from '../fault/checker.js';
import type { NetnsCluster } from './hosts.js';
import { sleep } from '../fault/nemesis.js';
import { runWorkload, type Sample } from './workload.js';

export interface RestartRecord {
  readonly id: string;
  /** From SIGTERM to the process's exit. */
  readonly exitMs: number;
  /** True when it had not exited within the deadline and was killed. */
  readonly killed: boolean;
  /** From the restart to the node's "node started" log line. */
  readonly startMs: number;
  /** From the restart to GET /readyz 200. */
  readonly readyMs: number;
  /** Why /readyz last said not ready, if it ever did. */
  readonly notReadyReason: string;
}

export interface RollingResult {
  readonly restarts: RestartRecord[];
  readonly history: HistoryEvent[];
  readonly samples: Sample[];
  /** Failed requests by "op status code". */
  readonly failuresByCode: Record<string, number>;
  /** Failures the client could have retried safely (everything but KV_ERR_OUTCOME_UNKNOWN writes). */
  readonly unexcused: Sample[];
  readonly outcomeUnknown: number;
}

export interface RollingOptions {
  readonly keys: readonly string[];
  readonly workers: number;
  readonly seed: number;
  readonly timeoutMs: number;
  readonly w: number;
}

const EXIT_DEADLINE_MS = 30_000;
const READY_DEADLINE_MS = 60_000;

export async function rollingRestart(cluster: NetnsCluster, client: RingkvClient, options: RollingOptions): Promise<RollingResult> {
  let stop = false;
  const load = runWorkload({ ...options, route: () => ({ client, coordinator: 'any' }), stopped: () => stop });
  const restarts: RestartRecord[] = [];
  try {
    await sleep(2_000); // load before the first restart
    for (const host of cluster.hosts) {
      const { exitMs, killed } = await cluster.terminate(host, EXIT_DEADLINE_MS);
      const restartAt = Date.now();
      await cluster.restart(host);
      const startMs = Date.now() - restartAt;
      const { lastReason } = await cluster.waitReady(host, READY_DEADLINE_MS);
      restarts.push({ id: host.id, exitMs, killed, startMs, readyMs: Date.now() - restartAt, notReadyReason: lastReason });
    }
    await sleep(2_000); // and after the last one is back
  } finally {
    stop = true;
  }
  const { history, samples } = await load;
  const failed = samples.filter((s) => !s.ok);
  const failuresByCode: Record<string, number> = {};
  for (const s of failed) {
    const key = `${s.op} ${s.status || 'no answer'} ${s.code ?? ''}`.trim();
    failuresByCode[key] = (failuresByCode[key] ?? 0) + 1;
  }
  const excused = (s: Sample) => s.op !== 'get' && s.code === 'KV_ERR_OUTCOME_UNKNOWN';
  return { restarts, history, samples, failuresByCode, unexcused: failed.filter((s) => !excused(s)), outcomeUnknown: failed.filter(excused).length };
}
