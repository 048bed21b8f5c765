/**
 * A quorum over one or two preference lists: met when a majority of EVERY list answered yes,
 * failed as soon as some list can no longer reach its majority (fail fast, like QuorumTally).
 * Two lists are the rule for a key whose ownership is moving (docs/cas.md "Membership
 * changes"): any round run with both lists shares an acceptor with any round run with either
 * list alone, which is what keeps two majorities from deciding differently during a transfer
 * (the Scylla 4.2 LWT finding). A node in both lists counts in both. Pure.
 */
import assert from 'node:assert/strict';
import type { QuorumOutcome } from '../core/quorum.js';

/** Yes and no answers of one phase, counted against one or two preference lists. */
export class JointQuorum {
  private readonly yes = new Set<string>();
  private readonly no = new Set<string>();

  constructor(private readonly lists: readonly (readonly string[])[]) {
    assert.ok(lists.length >= 1 && lists.length <= 2, 'one preference list, or the old and the new one');
    for (const list of lists) assert.ok(list.length > 0 && new Set(list).size === list.length, 'a preference list holds distinct nodes');
  }

  /** Every node a round must ask: the union of the lists, in order, once each. */
  get members(): string[] {
    return [...new Set(this.lists.flat())];
  }

  succeed(node: string): void {
    if (!this.no.has(node)) this.yes.add(node);
  }

  fail(node: string): void {
    if (!this.yes.has(node)) this.no.add(node);
  }

  outcome(): QuorumOutcome {
    let met = true;
    for (const list of this.lists) {
      const majority = Math.floor(list.length / 2) + 1;
      const yes = list.filter((n) => this.yes.has(n)).length;
      const no = list.filter((n) => this.no.has(n)).length;
      if (list.length - no < majority) return 'failed';
      if (yes < majority) met = false;
    }
    return met ? 'met' : 'pending';
  }
}
