/**
 * The receiving side of replica traffic (PeerHandler): applies a peer's batch to the local
 * store, and coordinates requests forwarded by nodes outside a key's preference list.
 *
 * A replica write merges the coordinator's object into the local one (Store.merge), so a
 * repeated, late or reordered write never loses anything the replica already had. Writes of a
 * batch share the store's group commit; the batch is answered once they are durable.
 */
import { KvError } from '../errors.js';
import type { VersioningLimits } from '../core/versioned.js';
import type { Store } from '../storage/store.js';
import type { CoordinateRequest, CoordinateResult, ReplicaOp, ReplicaResult } from '../transport/messages.js';
import type { PeerHandler } from '../transport/transport.js';
import { TREE_DIGESTS_MAX, TREE_LIST_KEYS_MAX, type TreeRequest, type TreeResponse } from '../transport/tree-messages.js';
import { summarizeSet } from './range-summary.js';
import type { Coordinator } from './coordinator.js';
import { CasAcceptorService } from './cas-acceptor-service.js';

function failure(error: unknown): { ok: false; code: KvError['code']; message: string } {
  if (error instanceof KvError) return { ok: false, code: error.code, message: error.message };
  return { ok: false, code: 'KV_ERR_INTERNAL', message: 'internal error' };
}


/** The refusal a removed node's internal requests get (issue 19.5). */
function removedSender(sender: string): KvError {
  return new KvError('KV_ERR_UNAUTHORIZED', `node ${sender} was removed from the ring; its requests are refused`, { sender });
}

export class ReplicaService implements PeerHandler {
  /** The acceptor of compare-and-set keys on this replica (docs/cas.md). */
  readonly cas: CasAcceptorService;

  constructor(
    private readonly store: Store,
    private readonly limits: VersioningLimits,
    private readonly coordinator: () => Coordinator,
    /** Whether an operator removed a sender for good; its requests are refused. */
    private readonly isRemoved: (id: string) => boolean,
  ) {
    this.cas = new CasAcceptorService(store.acceptorRecords);
  }

  async replicaBatch(ops: readonly ReplicaOp[], sender: string): Promise<ReplicaResult[]> {
    if (this.isRemoved(sender)) return ops.map(() => failure(removedSender(sender)));
    // Several gets of one key in a batch (many clients reading a hot key) read the store once:
    // a large object is then decoded once, not once per op. A write to the key in between
    // ends the sharing, so each get still sees the writes before it in the batch.
    const read = new Map<string, ReturnType<Store['get']>>();
    return Promise.all(
      ops.map(async (op): Promise<ReplicaResult> => {
        try {
          if (op.kind === 'get') {
            const object = read.has(op.key) ? read.get(op.key) : this.store.get(op.key);
            read.set(op.key, object);
            return object === undefined ? { ok: true } : { ok: true, object };
          }
          if (op.kind === 'paxos') {
            const reply = await this.cas.step(op.message, sender);
            return reply === undefined ? { ok: true } : { ok: true, paxos: reply };
          }
          read.delete(op.key);
          if (op.kind === 'hint') await this.store.hints.add(op.owner, op.key, op.object);
          else await this.store.merge(op.key, op.object, this.limits);
          return { ok: true };
        } catch (error) {
          return failure(error);
        }
      }),
    );
  }

  /**
   * Anti-entropy and reaper questions about this replica's ranges (answered from the store's
   * hash tree). A holdings answer lets a reaper delete keys everywhere, so it is given only once
   * the state it reports is durable (store.syncNow): under `--sync normal` a power loss could
   * otherwise take this node back to a live value every other replica has reaped (issue 19.8).
   */
  async tree(request: TreeRequest, sender: string): Promise<TreeResponse> {
    if (this.isRemoved(sender)) throw removedSender(sender);
    if (request.kind === 'summaries') {
      const summaries = request.sets.map((set) => summarizeSet((start, end) => this.store.summarize(start, end), set));
      return { kind: 'summaries', summaries };
    }
    if (request.kind === 'holdings') {
      const answer: TreeResponse = {
        kind: 'holdings',
        holdings: request.keys.map((key) => {
          const digest = this.store.digestOf(key);
          return { ...(digest === undefined ? {} : { digest }), hinted: this.store.hints.hasKey(key) };
        }),
      };
      await this.store.syncNow();
      return answer;
    }
    if (request.kind === 'keys') {
      // Listing keys (docs/listing.md): from this replica's own index, only in the ranges asked.
      const page = this.store.listKeys(request.prefix, request.after, Math.min(request.limit, TREE_LIST_KEYS_MAX), request.ranges);
      return { kind: 'keys', keys: page.keys, through: page.through };
    }
    const limit = Math.min(request.limit, TREE_DIGESTS_MAX);
    const entries: Array<{ key: string; digest: Uint8Array }> = [];
    let truncated = false;
    for (const range of request.ranges) {
      const found = this.store.digests(range.start, range.end, limit - entries.length + 1);
      for (const entry of found) {
        if (entries.length === limit) {
          truncated = true;
          break;
        }
        entries.push({ key: entry.key, digest: entry.digest });
      }
      if (truncated) break;
    }
    return { kind: 'digests', entries, truncated };
  }

  async coordinate(request: CoordinateRequest, sender: string): Promise<CoordinateResult> {
    try {
      if (this.isRemoved(sender)) throw removedSender(sender);
      if (request.kind === 'get') {
        const object = await this.coordinator().get(request.key, { r: request.r, timeoutMs: request.timeoutMs }, { forwarded: true });
        return object === undefined ? { ok: true } : { ok: true, object };
      }
      await this.coordinator().put(request.key, request.write, request.options, { forwarded: true });
      return { ok: true };
    } catch (error) {
      if (error instanceof KvError) return { ok: false, code: error.code, message: error.message, details: error.details };
      return { ok: false, code: 'KV_ERR_INTERNAL', message: 'internal error', details: {} };
    }
  }
}
