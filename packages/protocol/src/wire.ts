/**
 * Names and shapes of the public HTTP contract (SPEC.md, "Fixed contracts") that both the
 * server and the client library use. Changing anything here breaks outside clients: extend,
 * never rename.
 */

/** Request and response header that carries the opaque causal context of a key. */
export const CONTEXT_HEADER = 'x-ringkv-context';

/** Default largest key, in bytes of its UTF-8 encoding (after percent-decoding). */
export const KEY_BYTES_MAX_DEFAULT = 1024;

/** Default largest value, in bytes (1 MiB). */
export const VALUE_BYTES_MAX_DEFAULT = 1024 * 1024;

/** Content type stored when a PUT sends none. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** One sibling in a `300 Multiple Choices` body. A tombstone is `{"deleted": true}`. */
export type SiblingJson =
  | { value: string /* base64 */; contentType: string }
  | { deleted: true };

/** Body of `300 Multiple Choices` (and of `GET /admin/local/{key}`). */
export interface SiblingsBody {
  context: string;
  siblings: SiblingJson[];
}

/** Body of `GET /admin/status`. */
export interface StatusBody {
  nodeId: string;
  pid: number;
  version: string;
  uptimeMs: number;
  ringSize: number;
  n: number;
  members: Record<'alive' | 'suspect' | 'dead' | 'left', number>;
  [extra: string]: unknown;
}
