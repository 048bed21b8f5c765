/**
 * What the HTTP client routes need from the node: read and write a key with per-request
 * options. The Coordinator (quorum reads and writes over the ring) implements it; the routes
 * depend on this interface only.
 */
import type { VersionVector } from '../core/clock.js';
import type { VersionedObject } from '../core/versioned.js';

export interface ReadOptions {
  /** Replicas that must answer (1 ≤ r ≤ N). */
  readonly r: number;
  readonly timeoutMs: number;
}

/**
 * A write's options, in one shape from the HTTP edge through a forward (transport/messages.ts
 * carries every field) to the coordinating node, so no option is lost on the way (issue 19.2).
 */
export interface WriteOptions {
  /** Replicas that must acknowledge (1 ≤ w ≤ N); fallbacks holding hints count. */
  readonly w: number;
  readonly timeoutMs: number;
  /** Primaries (not fallbacks) that must acknowledge, Riak's PW (0 ≤ pw ≤ w; default 0). */
  readonly pw?: number;
  /**
   * Whether unreachable primaries may be replaced by fallbacks (default: the config of the node
   * the client reached; a forward carries the value decided there).
   */
  readonly sloppy?: boolean;
}

export interface ValueWrite {
  readonly context: VersionVector;
  /** True for a DELETE: the write is a tombstone. */
  readonly deleted: boolean;
  readonly value: Uint8Array;
  readonly contentType: string;
  /** PUT ?ttl_ms: the value reads as deleted this many ms after the write (never on a delete). */
  readonly ttlMs?: number;
  /** X-Ringkv-Request-Id: a retry of this write with the same id applies at most once (core/request-ids.ts). */
  readonly requestId?: string;
}

export interface KvService {
  /** The key's reconciled object, or undefined when no replica holds anything. */
  get(key: string, options: ReadOptions): Promise<VersionedObject | undefined>;
  /** Applies a write; resolves once `w` replicas hold it durably. */
  put(key: string, write: ValueWrite, options: WriteOptions): Promise<void>;
}
