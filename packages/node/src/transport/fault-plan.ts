/**
 * Fault injection for the fault harness (off unless a node runs with `--fault-injection`):
 * traffic from this node to the listed member ids is cut, both the replication transport
 * (requests to them hang until their deadline, as across a real partition) and gossip
 * (datagrams and push/pull to them are dropped). Cutting both directions between two groups
 * makes a partition; cutting one makes a one-way partition. It can also make this node's
 * store slow (`storeDelayMs`: replica batches and forwarded writes it serves start that much
 * later, while its process answers probes and gossip at once), the stalled disk a coordinator
 * must tell from a cut link. Set through the authenticated POST /internal/faults.
 */
import type { PeerHandler } from './transport.js';

export class FaultPlan {
  private blocked = new Set<string>();
  /** Delay before this node serves a replica batch or a forwarded request (0: none). */
  storeDelayMs = 0;

  /** Replaces the set of member ids this node cannot reach. */
  block(ids: readonly string[]): void {
    this.blocked = new Set(ids);
  }

  blocks(id: string): boolean {
    return this.blocked.has(id);
  }

  get active(): boolean {
    return this.blocked.size > 0;
  }

  /** `handler`, serving replica batches and forwards `storeDelayMs` late while that is set. */
  delaying(handler: PeerHandler): PeerHandler {
    const later = <T>(work: () => Promise<T>): Promise<T> =>
      this.storeDelayMs <= 0 ? work() : new Promise<void>((resolve) => setTimeout(resolve, this.storeDelayMs)).then(work);
    return {
      replicaBatch: (ops, sender) => later(() => handler.replicaBatch(ops, sender)),
      coordinate: (request, sender) => later(() => handler.coordinate(request, sender)),
      tree: (request, sender) => handler.tree(request, sender),
    };
  }

  list(): string[] {
    return [...this.blocked].sort();
  }
}
