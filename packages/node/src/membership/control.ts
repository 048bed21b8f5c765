/**
 * The membership changes an operator can ask for through the admin routes. Its own module so
 * the admin routes (http/admin-routes.ts) name it without importing the composition root
 * (node.ts), which imports the HTTP app: the type belongs to membership, not to either of them.
 */

/** Ownership changes an operator asks for (admin routes); only gossip membership has them. */
export interface MembershipControl {
  /** Announces that this node leaves the ring; its data is then handed off (OwnershipTransfer). */
  leave(): Promise<void>;
  /** Removes a dead member for good: its ranges go to the others, rebuilt by anti-entropy. */
  remove(id: string): void;
}
