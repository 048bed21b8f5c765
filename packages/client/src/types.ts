/** Shapes the client hands to its caller. */
import type { Codec, DecodedSibling } from './codec.js';

// Sibling lives in sibling.ts, which codec.ts imports too (no types ⇄ codec import cycle).
import type { Sibling } from './sibling.js';
export type { Sibling };

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
  /**
   * Cancels the call: the request in flight is aborted and the call rejects with a
   * RingkvAbortError (name 'AbortError', code KV_ERR_ABORTED), except a write already sent,
   * which rejects with an OutcomeUnknownError (`details.aborted: true`): it may have landed.
   */
  readonly signal?: AbortSignal;
}

/** Options of every write (put, delete, an update's write-back). */
export interface WriteOptions extends CallOptions {
  /** Durable acknowledgements to wait for, 1..N (default: a quorum of N). */
  readonly w?: number;
  /** Of those, how many must come from the key's primary replicas, 0..w (default 0). */
  readonly pw?: number;
  /**
   * false: only primary replicas count towards w (a strict quorum; no fallback node stands in
   * for a dead one). Default true (sloppy quorum with hinted handoff).
   */
  readonly sloppy?: boolean;
}

export interface GetOptions extends CallOptions {
  readonly r?: number;
  /** Called when the read returns siblings; its result is written back with the context. */
  readonly resolve?: Resolver;
  /** w for the write-back of a resolved read. */
  readonly w?: number;
}

export interface PutOptions extends WriteOptions {
  /** The context of the read this write builds on; without it the write becomes a sibling. */
  readonly context?: string;
  /** Defaults to text/plain; charset=utf-8 for strings and application/octet-stream for bytes. */
  readonly contentType?: string;
  /** Time to live in ms: afterwards the value reads as not found on every replica (`ttl_ms`). */
  readonly ttlMs?: number;
  /** The write's id, sent again on retries (docs/idempotency.md); default a random UUID per call. */
  readonly requestId?: string;
  /** Sends with the same id after an unknown outcome (default 2, at most 10; 0: none). */
  readonly retries?: number;
}

export interface DeleteOptions extends WriteOptions {
  readonly context?: string;
  /** As PutOptions.requestId. */
  readonly requestId?: string;
  /** As PutOptions.retries. */
  readonly retries?: number;
}

/** Options of getJson. */
export interface GetJsonOptions<T> extends CallOptions {
  readonly r?: number;
  /** Default: JSON (jsonCodec). */
  readonly codec?: Codec<T>;
  /** Merges several live siblings into `value` (nothing is written back). */
  readonly resolver?: (values: T[]) => T;
}

/** The result of getJson: like GetResult, with decoded values. */
export interface GetJsonResult<T> {
  /** True when at least one live sibling exists. */
  readonly found: boolean;
  /** Every sibling, decoded; tombstones of concurrent deletes as `{ deleted: true }`. */
  readonly siblings: readonly DecodedSibling<T>[];
  /** The one live value, or the resolver's merge of several; absent when not found, or siblings without a resolver. */
  readonly value?: T;
  /** Opaque causal context for the next write of this key. */
  readonly context?: string;
}
