/**
 * The one shape of a stored version the client hands out. Its own module because both the
 * result types (types.ts) and the codecs (codec.ts) name it, and types.ts names the codecs.
 */

/** One version of a key: a value, or a tombstone from a concurrent delete. */
export type Sibling = { deleted: false; value: Uint8Array; contentType: string } | { deleted: true };
