/**
 * The SWIM precedence rules (SWIM §4.2, memberlist state.go): whether an update about a
 * member overrides what we know. Pure functions, table-tested.
 *
 * - alive(i) overrides a record with incarnation < i, and joins an unknown member;
 * - suspect(i) overrides alive with incarnation ≤ i, and suspect with incarnation < i;
 * - dead(i) and left(i) override alive or suspect with incarnation ≤ i;
 * - dead and left are final for their incarnation: only alive with a higher one revives.
 * - a removal is `left` at REMOVED_INCARNATION, which no alive update can exceed: final forever.
 * Updates about oneself are not applied but refuted (see swim.ts).
 */
import type { SwimMember, Update } from './types.js';

/**
 * The incarnation of an operator's removal (`left` at the largest safe integer): no later
 * incarnation exists, so a removed identity can never be alive again, whatever its clock or
 * the gossip it brings back (issue 19.5). Its old data therefore never re-enters the ring.
 */
export const REMOVED_INCARNATION = Number.MAX_SAFE_INTEGER;

export function overrides(current: SwimMember | undefined, update: Update): boolean {
  if (current === undefined) return update.kind === 'alive';
  switch (update.kind) {
    case 'alive':
      return update.incarnation > current.incarnation;
    case 'suspect':
      if (current.status === 'alive') return update.incarnation >= current.incarnation;
      if (current.status === 'suspect') return update.incarnation > current.incarnation;
      return false;
    case 'dead':
    case 'left':
      if (current.status === 'alive' || current.status === 'suspect') return update.incarnation >= current.incarnation;
      // A removal overrides everything short of itself, a departure included.
      if (update.kind === 'left' && update.incarnation === REMOVED_INCARNATION) return current.incarnation < REMOVED_INCARNATION;
      // A dead member that then announces its departure is recorded as left.
      return update.kind === 'left' && current.status === 'dead' && update.incarnation >= current.incarnation;
  }
}

/** The update that describes a member's current record (for push/pull and rebroadcast). */
export function updateOf(member: SwimMember, from: string): Update {
  if (member.status === 'alive') {
    const zone = member.zone === undefined ? {} : { zone: member.zone };
    return { kind: 'alive', id: member.id, incarnation: member.incarnation, gossipAddress: member.gossipAddress, httpAddress: member.httpAddress, ...zone };
  }
  return { kind: member.status, id: member.id, incarnation: member.incarnation, from };
}
