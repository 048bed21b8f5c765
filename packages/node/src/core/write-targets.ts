/**
 * Where the N copies of a write go (Dynamo §4.6, sloppy quorum): each reachable primary keeps
 * its own copy; each unreachable one (per membership) is replaced by the next reachable node
 * past the preference list, which keeps a hint naming it. With `sloppy` off (a strict quorum)
 * an unreachable primary stays a target and simply fails. The coordinator never stands in for
 * a primary as a fallback: it already holds (or forwards) the write, so a hint it kept for
 * itself would add no copy.
 *
 * Pure: reachability comes in as a predicate; table-tested in write-targets.test.ts.
 */
import type { WriteTarget } from './put-core.js';

export interface WriteTargetInput {
  readonly selfId: string;
  /** The key's preference list (N distinct nodes, ring order). */
  readonly preferenceList: readonly string[];
  /** The nodes past the preference list, ring order (the candidates to stand in). */
  readonly fallbacks: readonly string[];
  readonly reachable: (id: string) => boolean;
  readonly sloppy: boolean;
}

export function writeTargets(input: WriteTargetInput): WriteTarget[] {
  const spare = input.sloppy ? input.fallbacks.filter((id) => id !== input.selfId && input.reachable(id)) : [];
  return input.preferenceList.map((replica) => {
    if (replica === input.selfId || input.reachable(replica)) return { node: replica, owner: replica };
    const stand = spare.shift();
    return stand === undefined ? { node: replica, owner: replica } : { node: stand, owner: replica };
  });
}
