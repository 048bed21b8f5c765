/**
 * Merkle anti-entropy (Dynamo §4.7): replicas compare what they hold and exchange only the
 * keys that differ. Read repair fixes keys that are read; hinted handoff fixes writes made
 * while a replica was away, if the hint survives; this fixes everything else (a lost disk, a
 * dropped hint, a write that reached only W replicas and never was read again).
 *
 * One exchange is between this node and one peer, over the arcs of the ring both replicate
 * (every key of an arc has the same preference list, protocol/ring.ts `arcs`). It descends:
 *
 *   1. ask the peer for the summary (hash, count; storage/digest-tree.ts) of each of up to 64
 *      groups of shared arcs, compare with our own;
 *   2. a group that differs is split (into its arcs, then an arc into 16 equal sub-ranges) and
 *      compared again, until a differing set holds at most LEAF_KEYS keys on either side;
 *   3. for those leaves, fetch the peer's key digests and diff them with ours;
 *   4. keys the peer has newer or we lack: fetched (replica get) and merged here; keys we have
 *      that the peer lacks or holds differently: pushed (replica put, merged there).
 *
 * Objects move only through the versioning core's merge, so an exchange can never lose a
 * write, and two replicas that merged each other's objects hold the same object (the same
 * digest): the next exchange finds nothing. What an exchange costs is proportional to the
 * difference (a few summaries per differing key, plus the keys themselves), not to the data.
 * Moving keys takes tokens from a per-node RateLimiter (`keysPerSecond`), so a full rebuild
 * cannot starve client traffic. Rounds run every `intervalMs` with the next reachable peer
 * that shares arcs, never two at once; an admin route runs one on demand.
 *
 * Failure: a peer that cannot be reached, times out or answers malformed frames fails the
 * exchange with its coded error (recorded in the status and counted); the next round retries.
 * Whatever was merged before the failure stays merged: it is correct on its own.
 */
import type { Logger } from 'pino';
import { arcRanges, arcs } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { encodeObject } from '../core/object-codec.js';
import type { VersioningLimits } from '../core/versioned.js';
import { mayCopyTo } from '../core/no-resurrection.js';
import type { Member } from '../membership/membership.js';
import { sameHash, type RangeSummary } from '../storage/digest-tree.js';
import { summarizeSet } from './range-summary.js';
import { encodeTreeRequest, encodeTreeResponse, TREE_DIGESTS_MAX, type PositionRange, type TreeRequest, type TreeResponse } from '../transport/tree-messages.js';
import type { Timers } from '../timers.js';
import { RoundLoop, type RingWalkDeps } from './round-loop.js';

/** A set small enough to diff key by key. */
export const LEAF_KEYS = 32;
/** Groups of shared arcs compared first. */
const TOP_GROUPS = 64;
/** How many ways a differing set is split. */
const FANOUT = 16;
/** Range sets per summaries request. */
const SETS_PER_REQUEST = 256;
/** Keys moved per step (one batch of gets, one of puts). */
const KEYS_PER_STEP = 64;

export interface AntiEntropyDeps extends RingWalkDeps {
  readonly limits: VersioningLimits;
  /** Deadline of one request to the peer. */
  readonly requestTimeoutMs: number;
  readonly nowMs: () => number;
  readonly logger: Logger;
  readonly events?: {
    exchanged?(report: ExchangeReport): void;
  };
  /** The process's timers, or a simulation's manual clock's (node.ts decides, once). */
  readonly timers: Timers;
  /** The reaper's grace: a key dead longer than this is never copied to a replica lacking it. */
  readonly tombstoneGraceMs?: number;
}

/** What one exchange did (also what `POST /admin/anti-entropy` answers). */
export interface ExchangeReport {
  readonly peer: string;
  readonly startedMs: number;
  readonly durationMs: number;
  /** Ranges both replicate (adjacent shared arcs joined). */
  readonly sharedRanges: number;
  /** Range sets whose summaries were compared. */
  readonly setsCompared: number;
  /** Keys whose digests were compared (in differing leaves). */
  readonly keysCompared: number;
  /** Keys fetched from the peer and merged here. */
  readonly keysIn: number;
  /** Keys pushed to the peer. */
  readonly keysOut: number;
  /**
   * Keys that failed alone (the peer or this store refused that one key): skipped, logged and
   * retried next round, while the exchange goes on with the others (issue 19.9).
   */
  readonly keysFailed: number;
  /** Bytes of tree messages and objects, both ways (bodies only). */
  readonly bytes: number;
  /** The coded error that ended the exchange early, if one did. */
  readonly error?: string;
}

/** Per peer, for /admin/status. */
export interface PeerExchangeStatus {
  readonly peer: string;
  readonly exchanges: number;
  readonly failures: number;
  readonly lastCompletedMs?: number;
  readonly last?: ExchangeReport;
}

interface Progress {
  peer: string;
  startedMs: number;
  setsCompared: number;
  keysCompared: number;
  keysIn: number;
  keysOut: number;
  keysFailed: number;
  bytes: number;
}

function split(set: readonly PositionRange[]): PositionRange[][] {
  if (set.length > 1) {
    const size = Math.ceil(set.length / FANOUT);
    const parts: PositionRange[][] = [];
    for (let i = 0; i < set.length; i += size) parts.push(set.slice(i, i + size));
    return parts;
  }
  const { start, end } = set[0]!;
  const width = end - start;
  if (width < FANOUT) return [];
  const step = Math.floor(width / FANOUT);
  return Array.from({ length: FANOUT }, (_, i) => [{ start: start + i * step, end: i === FANOUT - 1 ? end : start + (i + 1) * step }]);
}

export class AntiEntropy {
  private readonly status = new Map<string, PeerExchangeStatus>();
  private current: Progress | undefined;
  private running: Promise<unknown> | undefined;
  private lastPeer = '';
  private readonly loop: RoundLoop<ExchangeReport | undefined>;

  constructor(private readonly deps: AntiEntropyDeps) {
    this.loop = new RoundLoop(() => this.round(), (error) => deps.logger.warn({ err: error }, 'anti-entropy round failed'), deps.timers);
  }

  /**
   * The ranges of the arcs this node and `peer` both replicate on the current ring, adjacent
   * ones joined (with N equal to the ring size that is the whole ring, one range).
   */
  sharedRanges(peer: string): PositionRange[] {
    return arcRanges(this.deps.ring(), this.deps.n, (owners) => owners.includes(this.deps.selfId) && owners.includes(peer));
  }

  /** Peers this node shares arcs with, reachable now, sorted. */
  partners(): string[] {
    const owners = new Set<string>();
    for (const arc of arcs(this.deps.ring(), this.deps.n)) {
      if (arc.owners.includes(this.deps.selfId)) for (const owner of arc.owners) owners.add(owner);
    }
    owners.delete(this.deps.selfId);
    return [...owners].filter((id) => this.deps.membership.isReachable(id)).sort();
  }

  /** One exchange with `peer`, unless one is running (then it waits for that one first). */
  async exchange(peer: string): Promise<ExchangeReport> {
    while (this.running !== undefined) await this.running.catch(() => undefined);
    const run = this.run(peer);
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
    }
  }

  /** An exchange with the next partner after the last one (round-robin); undefined if none. */
  async round(): Promise<ExchangeReport | undefined> {
    const partners = this.partners();
    if (partners.length === 0) return undefined;
    const peer = partners.find((id) => id > this.lastPeer) ?? partners[0]!;
    this.lastPeer = peer;
    return this.exchange(peer);
  }

  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  /** Stops the rounds; waits for an exchange in progress (a round's or an admin's). */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.running?.catch(() => undefined);
  }

  /** For /admin/status: the exchange in progress, and the last one with each peer. */
  snapshot(): { running?: Progress; peers: PeerExchangeStatus[] } {
    return { ...(this.current === undefined ? {} : { running: { ...this.current } }), peers: [...this.status.values()].sort((a, b) => (a.peer < b.peer ? -1 : 1)) };
  }

  private async run(peer: string): Promise<ExchangeReport> {
    const progress: Progress = { peer, startedMs: this.deps.nowMs(), setsCompared: 0, keysCompared: 0, keysIn: 0, keysOut: 0, keysFailed: 0, bytes: 0 };
    this.current = progress;
    const shared = this.sharedRanges(peer);
    let error: string | undefined;
    try {
      const member = this.deps.membership.member(peer);
      if (member === undefined) throw new KvError('KV_ERR_PEER_UNREACHABLE', `no member ${peer}`, { peer });
      const ask = async (request: TreeRequest): Promise<TreeResponse> => {
        const response = await this.deps.transport.tree(member, request, this.deps.requestTimeoutMs);
        progress.bytes += encodeTreeRequest(request).length + encodeTreeResponse(response).length;
        if (response.kind !== request.kind) throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${peer} answered ${response.kind} to ${request.kind}`, { peer });
        return response;
      };
      const leaves = await this.differingLeaves(shared, ask, progress, peer);
      for (const leaf of leaves) await this.repairLeaf(leaf, member, ask, progress);
    } catch (caught) {
      error = caught instanceof KvError ? caught.code : 'KV_ERR_INTERNAL';
      this.deps.logger.warn({ err: caught, peer }, 'anti-entropy exchange failed');
    } finally {
      this.current = undefined;
    }
    const { startedMs, setsCompared, keysCompared, keysIn, keysOut, keysFailed, bytes } = progress;
    const report: ExchangeReport = { peer, startedMs, durationMs: this.deps.nowMs() - startedMs, sharedRanges: shared.length, setsCompared, keysCompared, keysIn, keysOut, keysFailed, bytes, ...(error === undefined ? {} : { error }) };
    const previous = this.status.get(peer);
    this.status.set(peer, {
      peer,
      exchanges: (previous?.exchanges ?? 0) + 1,
      failures: (previous?.failures ?? 0) + (error === undefined ? 0 : 1),
      ...(error === undefined ? { lastCompletedMs: this.deps.nowMs() } : previous?.lastCompletedMs === undefined ? {} : { lastCompletedMs: previous.lastCompletedMs }),
      last: report,
    });
    this.deps.events?.exchanged?.(report);
    return report;
  }

  private summarize(set: readonly PositionRange[]): RangeSummary {
    return summarizeSet((start, end) => this.deps.store.summarize(start, end), set);
  }

  /** Steps 1-2: the smallest range sets whose summaries differ. */
  private async differingLeaves(shared: PositionRange[], ask: (r: TreeRequest) => Promise<TreeResponse>, progress: Progress, peer: string): Promise<PositionRange[][]> {
    const leaves: PositionRange[][] = [];
    const groupSize = Math.max(1, Math.ceil(shared.length / TOP_GROUPS));
    let pending: PositionRange[][] = [];
    for (let i = 0; i < shared.length; i += groupSize) pending.push(shared.slice(i, i + groupSize));
    while (pending.length > 0) {
      const batch = pending.slice(0, SETS_PER_REQUEST);
      pending = pending.slice(SETS_PER_REQUEST);
      const response = await ask({ kind: 'summaries', sets: batch });
      if (response.kind !== 'summaries' || response.summaries.length !== batch.length) {
        throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${peer} answered a wrong number of summaries`, { peer });
      }
      progress.setsCompared += batch.length;
      batch.forEach((set, i) => {
        const theirs = response.summaries[i]!;
        const mine = this.summarize(set);
        if (mine.count === theirs.count && sameHash(mine.hash, theirs.hash)) return;
        const parts = Math.max(mine.count, theirs.count) > LEAF_KEYS ? split(set) : [];
        if (parts.length === 0) leaves.push(set);
        else pending.push(...parts);
      });
    }
    return leaves;
  }

  /** Steps 3-4 for one leaf: diff the key digests, then fetch and push what differs. */
  private async repairLeaf(leaf: PositionRange[], peer: Member, ask: (r: TreeRequest) => Promise<TreeResponse>, progress: Progress): Promise<void> {
    const response = await ask({ kind: 'digests', ranges: leaf, limit: TREE_DIGESTS_MAX });
    if (response.kind !== 'digests') return;
    if (response.truncated) {
      // More keys than one answer holds (it grew since the summary): the next round gets it.
      this.deps.logger.debug({ peer: peer.id }, 'anti-entropy leaf truncated; left for the next round');
    }
    const mine = new Map<string, Uint8Array>();
    for (const range of leaf) for (const entry of this.deps.store.digests(range.start, range.end, Number.MAX_SAFE_INTEGER)) mine.set(entry.key, entry.digest);
    const fetch: string[] = [];
    const push: string[] = [];
    const seen = new Set<string>();
    for (const { key, digest } of response.entries) {
      seen.add(key);
      const own = mine.get(key);
      if (own === undefined) fetch.push(key);
      else if (!sameHash(own, digest)) {
        fetch.push(key); // merge theirs in first, then send back the merged object
        push.push(key);
      }
    }
    // A key the peer lacks that has been dead past the grace may have been reaped there: not sent.
    if (!response.truncated) for (const key of mine.keys()) if (!seen.has(key) && mayCopyTo(this.deps.store.get(key), false, this.deps.nowMs(), this.deps.tombstoneGraceMs)) push.push(key);
    progress.keysCompared += mine.size + response.entries.length;

    for (let i = 0; i < fetch.length; i += KEYS_PER_STEP) {
      const keys = fetch.slice(i, i + KEYS_PER_STEP);
      await this.deps.limiter.take(keys.length);
      const results = await Promise.all(keys.map((key) => this.deps.transport.replica(peer, { kind: 'get', key })));
      await Promise.all(
        results.map(async (result, j) => {
          const key = keys[j]!;
          if (!result.ok) return this.keyFailed(progress, peer, key, result.code);
          if (result.object === undefined) return; // gone since its digest was listed (never deleted: a reaped tombstone)
          progress.bytes += encodeObject(result.object).length;
          try {
            // Dead past the grace and absent here (reaped here, or never held): not taken back.
            if (!mayCopyTo(result.object, this.deps.store.get(key) !== undefined, this.deps.nowMs(), this.deps.tombstoneGraceMs)) return;
            await this.deps.store.merge(key, result.object, this.deps.limits);
            progress.keysIn++;
          } catch (error) {
            this.keyFailed(progress, peer, key, error instanceof KvError ? error.code : 'KV_ERR_INTERNAL');
          }
        }),
      );
    }
    for (let i = 0; i < push.length; i += KEYS_PER_STEP) {
      const keys = push.slice(i, i + KEYS_PER_STEP);
      await this.deps.limiter.take(keys.length);
      const results = await Promise.all(
        keys.map((key) => {
          let object;
          try {
            object = this.deps.store.get(key);
          } catch (error) {
            // A row this store cannot read is not pushed; the fetch side repairs it (Store.merge).
            return Promise.resolve({ ok: false, code: error instanceof KvError ? error.code : 'KV_ERR_INTERNAL', message: 'unreadable here' } as const);
          }
          if (object === undefined) return Promise.resolve({ ok: true } as const);
          progress.bytes += encodeObject(object).length;
          progress.keysOut++;
          return this.deps.transport.replica(peer, { kind: 'put', key, object });
        }),
      );
      results.forEach((result, j) => {
        if (!result.ok) this.keyFailed(progress, peer, keys[j]!, result.code);
      });
    }
  }

  /** One key failed alone: counted and logged; the exchange goes on with the others. */
  private keyFailed(progress: Progress, peer: Member, key: string, code: string): void {
    progress.keysFailed++;
    this.deps.logger.warn({ peer: peer.id, key, code }, 'anti-entropy could not repair one key; the next round retries it');
  }
}
