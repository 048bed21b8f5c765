/**
 * Which actor a coordinator writes a key's new version under (the "who" of the new dot).
 *
 * A clock entry `actor: n` claims that its holder has seen every dot `actor` issued on this key
 * up to `n`. That claim is only true if the coordinator, when it issues a dot, holds every earlier
 * dot of the same actor on the same key. A coordinator that holds no copy of the key (a node
 * outside the preference list coordinating because every primary is down, a node that handed
 * the key off, one restarted on an emptied data directory, a former owner that regained the
 * key before anti-entropy returned it) cannot know what it issued before; were it to reuse its
 * one node-wide actor with a higher counter, the new clock entry would cover those earlier
 * dots, and replicas merging the new version would drop them as superseded: two blind writes
 * collapse into last-writer-wins and an acknowledged write is lost (Riak's riak_kv#679, fixed
 * there with per-key actor epochs when the local read finds nothing, PRs #1094/#1643).
 *
 * The rule here is that an actor lives exactly as long as one local row of one key:
 * - a coordinator that keeps a copy of the key (it is in the preference list and commits
 *   locally before any replica sees the dot) reuses the row's actor, provided the row was given
 *   that actor under the store's current epoch and the row's clock still has its entry. Every
 *   dot that actor ever issued was committed to this very row first, and a row only grows (it is
 *   merged into, never rolled back; deleting it deletes the actor with it), so the row's entry
 *   is at least every dot of the actor;
 * - otherwise (no copy kept, no row, a row without an actor, a row from an earlier epoch, or
 *   its entry pruned) the write gets a fresh actor, unique with overwhelming probability
 *   (`${nodeId}~${epoch}${7 random base64url characters}`, 42 bits), whose only earlier dot
 *   is none at all. A kept copy records it as the row's actor.
 *
 * The cost is clock entries: one per (node, row lifetime) plus one per write coordinated without
 * a copy, bounded by the clock pruning rule like any other entry. The dot's counter is still
 * floored by the node's counter floor (coordinator.ts), so a restored old disk cannot reissue
 * a dot either.
 *
 * Pure: randomness comes in as a function.
 */
import { counterOf } from './clock.js';
import { plantedBugs, type VersionedObject } from './versioned.js';

/** Random characters an actor adds to `nodeId~epoch`. */
export const ACTOR_SUFFIX_CHARS = 7;
/** Bytes an actor adds to its node id: `~`, the 8-character epoch and the suffix. */
export const ACTOR_ID_EXTRA_BYTES = 1 + 8 + ACTOR_SUFFIX_CHARS;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';


export interface ActorInput {
  readonly selfId: string;
  /** The store's epoch (storage/store.ts): renewed when acknowledged data may have been lost. */
  readonly epoch: string;
  /** Whether this coordinator commits the new version to its own row before sending it. */
  readonly keepsCopy: boolean;
  /** The local row's object (queued writes included), if the node has one. */
  readonly stored: VersionedObject | undefined;
  /** The local row's actor, if it has one. */
  readonly rowActor: string | undefined;
  /** Uniform in [0, 1): the simulation passes its seeded generator. */
  readonly random: () => number;
}

export interface ActorChoice {
  readonly actor: string;
  /** True when the actor is new: a kept copy must record it as the row's actor. */
  readonly fresh: boolean;
}

/** True when `actor` was made by `selfId` under `epoch` by this module (not a legacy actor). */
export function isOwnActor(actor: string, selfId: string, epoch: string): boolean {
  const prefix = `${selfId}~${epoch}`;
  return actor.length === prefix.length + ACTOR_SUFFIX_CHARS && actor.startsWith(prefix);
}

/** Chooses the actor of a coordinator's new dot; see the module comment for the rule. */
export function chooseActor(input: ActorInput): ActorChoice {
  if (plantedBugs.actorWithoutCopy) return { actor: `${input.selfId}~${input.epoch}`, fresh: false };
  const { rowActor, stored } = input;
  if (input.keepsCopy && rowActor !== undefined && stored !== undefined && isOwnActor(rowActor, input.selfId, input.epoch) && counterOf(stored.clock, rowActor) > 0) {
    return { actor: rowActor, fresh: false };
  }
  let suffix = '';
  for (let i = 0; i < ACTOR_SUFFIX_CHARS; i++) suffix += ALPHABET[Math.floor(input.random() * 64)];
  return { actor: `${input.selfId}~${input.epoch}${suffix}`, fresh: true };
}
