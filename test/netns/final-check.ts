/**
 * After the faults of a multi-host run: hints delivered, then the fault harness's quiet phase
 * (a quarter of the keys and two untouched keys deleted with the context of a read at R = N,
 * so the no-resurrection rule is exercised), then every key read at R = N (read repair) and
 * its replicas compared through GET /admin/local/{key} on each node of its preference list
 * (the admin token), and the history judged by the fault tier's checker (test/fault/checker.ts).
 */
import type { RingkvClient } from '@ringkv/client';
import { http, waitFor } from '../helpers/process.js';
import { check, type FinalKey, type HistoryEvent, type ReadYourWrites, type Verdict } from '../fault/checker.js';
import { deleteKey, readYourWritesWindowed, union } from '../fault/harness.js';
import type { NetnsCluster } from './hosts.js';

export interface FinalReport {
  readonly verdict: Verdict;
  readonly readYourWrites: ReadYourWrites;
  /** From the end of the quiet phase to every key's replicas identical. */
  readonly convergeMs: number;
  /** Waits that ran out (hints never delivered, replicas never identical). */
  readonly problems: string[];
}

export const SIBLINGS_MAX = 64;

/** Each replica's versions of `key`, comparable as strings. */
async function replicaStates(cluster: NetnsCluster, key: string): Promise<string[]> {
  const path = encodeURIComponent(key);
  const pref = (await http(cluster.agent, 'GET', `${cluster.hosts[0]!.url}/admin/preflist/${path}`)).json as { preferenceList: Array<{ id: string }> };
  return Promise.all(
    pref.preferenceList.map(async ({ id }) => {
      const local = await http(cluster.agent, 'GET', `${cluster.byId(id).url}/admin/local/${path}`);
      const siblings = local.status === 200 ? (local.json as { siblings: Array<{ value?: string; deleted?: boolean }> }).siblings : [];
      return JSON.stringify(siblings.map((s) => (s.deleted ? '<deleted>' : s.value)).sort());
    }),
  );
}

async function hintsHeld(cluster: NetnsCluster): Promise<number> {
  let total = 0;
  for (const host of cluster.hosts) {
    const status = (await http(cluster.agent, 'GET', `${host.url}/admin/status`, { timeoutMs: 5_000 })).json as { hints: Record<string, number> };
    total += Object.values(status.hints).reduce((a, b) => a + b, 0);
  }
  return total;
}

/** Writes the untouched keys the quiet phase deletes (before any fault). */
export async function seedTombKeys(client: RingkvClient, tombKeys: readonly string[], n: number, history: HistoryEvent[]): Promise<void> {
  for (const key of tombKeys) {
    const startMs = Date.now();
    await client.put(key, JSON.stringify([`${key}-seed`]), { w: n });
    history.push({ type: 'add', key, element: `${key}-seed`, ok: true, startMs, endMs: Date.now() });
  }
}

export async function finalCheck(cluster: NetnsCluster, client: RingkvClient, keys: readonly string[], tombKeys: readonly string[], history: HistoryEvent[], n: number): Promise<FinalReport> {
  const problems: string[] = [];
  await waitFor(async () => (await hintsHeld(cluster)) === 0, 60_000, 'every hint delivered', 250).catch(async () => problems.push(`${await hintsHeld(cluster)} hints still held 60 s after the heal`));
  for (const key of [...tombKeys, ...keys.slice(0, Math.max(1, Math.floor(keys.length / 4)))]) {
    const readStartMs = Date.now();
    const read = await client.get(key, { r: n, timeoutMs: 5_000 });
    history.push(await deleteKey(client, key, union(read.siblings), read.context === undefined ? {} : { context: read.context }, readStartMs));
  }
  const quietAt = Date.now();
  const final = new Map<string, FinalKey>();
  for (const key of [...keys, ...tombKeys]) {
    await client.get(key, { r: n, timeoutMs: 5_000 });
    let replicas: string[] = [];
    await waitFor(async () => {
      replicas = await replicaStates(cluster, key);
      return new Set(replicas).size === 1 || undefined;
    }, 15_000, `replicas of ${key} converge`).catch(() => problems.push(`replicas of ${key} still differ after 15 s`));
    const read = await client.get(key, { r: n, timeoutMs: 5_000 });
    final.set(key, { elements: union(read.siblings), replicas });
  }
  const convergeMs = Date.now() - quietAt;
  return { verdict: check(history, final, SIBLINGS_MAX), readYourWrites: readYourWritesWindowed(history), convergeMs, problems };
}
