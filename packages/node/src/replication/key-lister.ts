/**
 * Listing keys across the ring (docs/listing.md): the serving node's side of
 * `GET /kv?prefix=&after=&limit=`. It makes a coverage plan (core/coverage-plan.ts: every arc
 * at `r` usable owners, this node first), asks each node chosen for its next `limit` live keys
 * after the cursor in the ranges it was chosen for (Store.listKeys, locally or as a 'keys' tree
 * question over the peer transport), and merges the answers (core/list-merge.ts). A node that
 * does not answer is routed around: the plan is made again without it, once per node, within
 * the request's deadline. Model: Riak's coverage queries (riak_core_coverage_fsm).
 */
import { arcs, type Ring } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { coveragePlan } from '../core/coverage-plan.js';
import { mergePages, type ListPage } from '../core/list-merge.js';
import type { Member } from '../membership/membership.js';
import { compareKeys, type KeyPage, type ListRange } from '../storage/key-listing.js';
import type { Store } from '../storage/store.js';
import type { Transport } from '../transport/transport.js';
import { TREE_RANGES_MAX } from '../transport/tree-messages.js';

export interface KeyListerDeps {
  readonly selfId: string;
  readonly n: number;
  readonly ring: () => Ring;
  /** Whether a peer is worth asking now (reachable per gossip, and answering this node). */
  readonly usable: (id: string) => boolean;
  readonly member: (id: string) => Member | undefined;
  readonly store: Pick<Store, 'listKeys'>;
  readonly transport: Pick<Transport, 'tree'>;
  /** The clock the request's deadline is measured on (Timers.monotonicMs). */
  readonly monotonicMs: () => number;
  /** Told of a peer that did not answer (peer-health.ts routes around it). */
  readonly unanswered?: (id: string) => void;
}

export interface ListRequest {
  readonly prefix: string;
  readonly after: string;
  /** Keys in the page at most (1 to 1,000). */
  readonly limit: number;
  /** Replicas asked per range: 1 (the default) or more, their answers merged. */
  readonly r: number;
  readonly timeoutMs: number;
}

/** Plans made for one page at most: the first, and one after each round of silent nodes. */
const ROUNDS_MAX = 3;

export class KeyLister {
  constructor(private readonly deps: KeyListerDeps) {}

  async list(request: ListRequest): Promise<ListPage> {
    const deadline = this.deps.monotonicMs() + request.timeoutMs;
    const excluded = new Set<string>();
    for (let round = 1; ; round++) {
      const { selfId } = this.deps;
      const plan = coveragePlan(arcs(this.deps.ring(), this.deps.n), (id) => !excluded.has(id) && (id === selfId || this.deps.usable(id)), selfId, request.r);
      if (!plan.ok) {
        throw new KvError('KV_ERR_QUORUM_UNMET', `listing needs ${plan.needed} reachable replicas of every range; a range has ${plan.usable}`, { needed: plan.needed, answered: plan.usable });
      }
      const asked = [...plan.asks].flatMap(([id, ranges]) => chunks(ranges).map((part) => ({ id, part })));
      const answers = await Promise.all(asked.map(({ id, part }) => this.ask(id, part, request, deadline)));
      const silent = asked.filter((_, i) => answers[i] === undefined).map(({ id }) => id);
      if (silent.length === 0) return mergePages(answers as KeyPage[], request.limit);
      for (const id of silent) excluded.add(id);
      if (round === ROUNDS_MAX || this.deps.monotonicMs() >= deadline) {
        throw new KvError('KV_ERR_TIMEOUT', `listing: ${silent.join(', ')} did not answer in time`, { unanswered: silent.join(', ') });
      }
    }
  }

  /** One node's answer for its ranges, or undefined when it gave none (unreachable, timed out, refused). */
  private async ask(id: string, ranges: readonly ListRange[], request: ListRequest, deadline: number): Promise<KeyPage | undefined> {
    const { prefix, after, limit } = request;
    if (id === this.deps.selfId) return this.deps.store.listKeys(prefix, after, limit, ranges);
    const member = this.deps.member(id);
    if (member === undefined) return undefined;
    try {
      const answer = await this.deps.transport.tree(member, { kind: 'keys', ranges, prefix, after, limit }, Math.max(1, deadline - this.deps.monotonicMs()));
      if (answer.kind !== 'keys') return undefined;
      // Only what was asked, whatever a peer (an older or faulty one) sends: client tokens'
      // grants are enforced through the prefix.
      return { keys: answer.keys.filter((key) => key.startsWith(prefix) && compareKeys(key, after) > 0), through: answer.through };
    } catch {
      // Unreachable, timed out, or refused (a removed sender, a bad answer): no answer either way.
      this.deps.unanswered?.(id);
      return undefined;
    }
  }
}

/** Ranges split to fit one tree question each. */
function chunks(ranges: readonly ListRange[]): Array<readonly ListRange[]> {
  const out: Array<readonly ListRange[]> = [];
  for (let i = 0; i < ranges.length; i += TREE_RANGES_MAX) out.push(ranges.slice(i, i + TREE_RANGES_MAX));
  return out;
}
