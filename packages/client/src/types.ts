/** Shapes the client hands to its caller. */

/** One version of a key: a value, or a tombstone from a concurrent delete. */
export type Sibling = { deleted: false; value: Uint8Array; contentType: string } | { deleted: true };

/** The result of a read. */
export interface GetResult {
  /** True when at least one live value exists (a 200 or a 300). */
  readonly found: boolean;
  /** Every sibling (one for a plain value, several after concurrent writes); empty when not found. */
  readonly siblings: readonly Sibling[];
  /** The value when exactly one live sibling exists (after `resolve`, the resolved value). */
  readonly value?: Uint8Array;
  readonly contentType?: string;
  /** Opaque causal context; pass it to the next put/delete of this key. Absent for a never-written key. */
  readonly context?: string;
}

/** Merges siblings into the one version to write back (a value, or `{ deleted: true }`). */
export type Resolver = (siblings: readonly Sibling[]) =>
  | { value: Uint8Array | string; contentType?: string }
  | { deleted: true };

export interface CallOptions {
  /** Per-call request timeout (sent as timeout_ms; the client waits a little longer). */
  readonly timeoutMs?: number;
}

export interface GetOptions extends CallOptions {
  readonly r?: number;
  /** Called when the read returns siblings; its result is written back with the context. */
  readonly resolve?: Resolver;
  /** w for the write-back of a resolved read. */
  readonly w?: number;
}

export interface PutOptions extends CallOptions {
  readonly w?: number;
  /** The context of the read this write builds on; without it the write becomes a sibling. */
  readonly context?: string;
  /** Defaults to text/plain; charset=utf-8 for strings and application/octet-stream for bytes. */
  readonly contentType?: string;
  /** Time to live in ms: afterwards the value reads as not found on every replica (`ttl_ms`). */
  readonly ttlMs?: number;
}

export interface DeleteOptions extends CallOptions {
  readonly w?: number;
  readonly context?: string;
}
