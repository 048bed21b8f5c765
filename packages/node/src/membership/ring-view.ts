/**
 * The node's one view of the ring (Dynamo §4.2 consistent hashing with virtual nodes, §4.3
 * preference lists): built from the membership's ring members and their zones, and rebuilt only
 * when they change (a join, a leave, a removal or a zone change; a member turning suspect or
 * dead keeps the ring, since ownership does not follow reachability). The coordinator, hinted
 * handoff, anti-entropy, ownership transfer, the admin routes and the metrics all ask this view,
 * so every part of a node places a key the same way. The client's RingView
 * (packages/client/src/ring-view.ts) is its mirror over /admin/ring; both place keys with
 * @ringkv/protocol's ring.ts.
 */
import { buildRing, preferenceList, walkAt, type Ring } from '@ringkv/protocol';
import { ringLayout, type MembershipView } from './membership.js';

/** What the ring depends on, as one comparable string (ids cannot hold '@' or ','). */
function layoutKey(members: ReadonlyArray<{ id: string; zone?: string }>): string {
  return members.map((m) => `${m.id}@${m.zone ?? ''}`).join(',');
}

export class RingView {
  private cached: Ring | undefined;
  private cachedLayout = '';

  constructor(
    private readonly membership: MembershipView,
    /** Virtual nodes (tokens) per member. */
    private readonly tokensPerNode: number,
    /** Replicas per key: the length of a preference list. */
    readonly n: number,
  ) {
    membership.onChange(() => {
      // Only joins, leaves and zones move ownership; status changes (suspect, dead) keep the ring.
      if (layoutKey(ringLayout(membership)) !== this.cachedLayout) this.cached = undefined;
    });
  }

  /** The ring of the current members and their zones (rebuilt only after a join, a leave or a zone change). */
  ring(): Ring {
    if (this.cached === undefined) {
      const members = ringLayout(this.membership);
      this.cachedLayout = layoutKey(members);
      this.cached = buildRing(members, this.tokensPerNode);
    }
    return this.cached;
  }

  /** The key's n owners, in order. */
  preferenceList(key: string): string[] {
    return preferenceList(this.ring(), key, this.n);
  }

  /**
   * One walk of the ring from the key's position (`position`: ringPosition(key), hashed once per
   * request by the caller): the first n nodes are its preference list, the rest (up to `limit`)
   * its fallbacks in order.
   */
  walk(position: number, limit: number): string[] {
    return walkAt(this.ring(), position, limit);
  }
}
