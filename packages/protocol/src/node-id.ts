/**
 * What a node id is, for every place that reads one: config (--id, static peers), SWIM
 * packets, removal lists, the cluster-authentication headers and hellos, replica frames and
 * the internal routes. One definition, so a node cannot start with an id its peers refuse, and
 * a peer cannot make one part accept what another refuses.
 *
 * Why these bounds: ids appear in HTTP headers, file lines and log lines, so the alphabet
 * is the one that needs no escaping anywhere (letters, digits, `.`, `_`, `-`); 64 UTF-8 bytes
 * is the bound every codec reads an id under (version-vector entries, contexts, frames). A
 * node's own id must leave room in those 64 bytes for the actor suffix its writes add
 * (`~epoch` and a random tag, packages/node core/actor.ts), so config accepts a shorter own id
 * on top of this pattern; peers' ids are checked against the full bound.
 */

/** Longest id (node or actor) any codec reads, in UTF-8 bytes (= characters: the alphabet is ASCII). */
export const NODE_ID_BYTES_MAX = 64;

/** A node id: 1 to NODE_ID_BYTES_MAX characters of A-Z a-z 0-9 . _ - */
export const NODE_ID_PATTERN = new RegExp(`^[A-Za-z0-9._-]{1,${NODE_ID_BYTES_MAX}}$`);

/** True when `value` is a well-formed node id (NODE_ID_PATTERN). */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_PATTERN.test(value);
}
