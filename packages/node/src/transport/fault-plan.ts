/**
 * Fault injection for the fault harness (off unless a node runs with `--fault-injection`):
 * traffic from this node to the listed member ids is cut, both the replication transport
 * (requests to them hang until their deadline, as across a real partition) and gossip
 * (datagrams and push/pull to them are dropped). Cutting both directions between two groups
 * makes a partition; cutting one makes a one-way partition. Set through the authenticated
 * POST /internal/faults.
 */
export class FaultPlan {
  private blocked = new Set<string>();

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

  list(): string[] {
    return [...this.blocked].sort();
  }
}
