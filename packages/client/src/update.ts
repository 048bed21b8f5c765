/**
 * update(): fetch, modify, store with the read's context, as Riak's clients do it (basho docs,
 * "Conflict Resolution": resolve siblings on fetch, store with the vclock of the fetch).
 *
 * What happens when two updaters race: both read the same version, both write back with its
 * context, and the store keeps both writes as siblings (neither context covers the other's
 * write). Neither write failed: both landed. The next update() reads the siblings, merges them
 * with the caller's `resolver`, applies `fn` to the merge and writes with a context covering
 * both, which collapses them. So nothing is lost if and only if the resolver merges (a union, a
 * per-writer maximum: counter.ts) rather than picks one.
 *
 * Why a race is not retried: re-running `fn` after a write that raced would apply the change
 * twice, because the raced write has landed (it is a sibling, not a failure). The cycle is
 * retried, with small jittered backoff and a bound, only when a step failed without applying
 * anything: a read that failed, or a write refused before it was applied (unreachable nodes, a
 * quorum the node saw as out of reach before sending, an overloaded or stopping node, or
 * KV_ERR_TOO_MANY_SIBLINGS: so many racing writers that the key hit its sibling limit, which the
 * next cycle's merge resolves). A write whose outcome is unknown is never retried.
 */
import { RingkvError, type ClientErrorCode } from './errors.js';
import { backoffMs, sleep, throwIfAborted } from './backoff.js';
import { liveValues, type Codec } from './codec.js';
import type { GetJsonOptions, GetJsonResult, PutOptions, WriteOptions } from './types.js';

/** Computes the new value from the current one (undefined when the key has no live value). */
export type Updater<T> = (current: T | undefined) => T | Promise<T>;

export interface UpdateOptions<T> extends WriteOptions {
  /** r of the read (default a quorum). Keep r + w > N so that an updater sees its own last write. */
  readonly r?: number;
  /**
   * Merges several live siblings (from concurrent writers) into one value for `fn`. Required
   * once siblings appear; it must merge, not pick, for concurrent updates to all count.
   * Tombstones of concurrent deletes are left out: a value concurrent with a delete wins.
   */
  readonly resolver?: (values: T[]) => T;
  /** Further cycles after one that failed without applying anything (default 5, at most 20). */
  readonly retries?: number;
  /** Default: JSON. */
  readonly codec?: Codec<T>;
  /** Time to live of the written value, in ms. */
  readonly ttlMs?: number;
}

export interface UpdateResult<T> {
  /** The value written. */
  readonly value: T;
  /** Cycles run, 1 when the first succeeded. */
  readonly attempts: number;
  /** Live siblings the last read held and the resolver merged (0 when there was one value or none). */
  readonly siblingsMerged: number;
}

/** What update() needs of the client. */
export interface JsonStore<T> {
  getJson(key: string, options: GetJsonOptions<T>): Promise<GetJsonResult<T>>;
  putJson(key: string, value: T, options: Omit<PutOptions, 'contentType'> & { codec?: Codec<T> }): Promise<void>;
}

export const UPDATE_RETRIES_DEFAULT = 5;
export const UPDATE_RETRIES_MAX = 20;

/** Failures after which the cycle may run again: each says nothing was applied. */
const RETRYABLE = new Set<ClientErrorCode>([
  'KV_ERR_UNREACHABLE',
  'KV_ERR_QUORUM_UNMET',
  'KV_ERR_TIMEOUT',
  'KV_ERR_OVERLOADED',
  'KV_ERR_SHUTTING_DOWN',
  'KV_ERR_TOO_MANY_SIBLINGS',
]);

function retryable(error: unknown): boolean {
  return error instanceof RingkvError && !error.mayHaveApplied && RETRYABLE.has(error.code);
}

/** Runs update cycles until one succeeds, one fails in a way not worth retrying, or the bound. */
export async function runUpdate<T>(store: JsonStore<T>, key: string, fn: Updater<T>, options: UpdateOptions<T>, random: () => number): Promise<UpdateResult<T>> {
  const retries = options.retries ?? UPDATE_RETRIES_DEFAULT;
  if (!Number.isInteger(retries) || retries < 0 || retries > UPDATE_RETRIES_MAX) throw new TypeError(`update: retries must be an integer from 0 to ${UPDATE_RETRIES_MAX} (got ${retries})`);
  for (let attempt = 0; ; attempt++) {
    try {
      return await cycle(store, key, fn, options, attempt + 1);
    } catch (error) {
      if (attempt >= retries || !retryable(error)) throw error;
      await sleep(backoffMs(attempt, random), options.signal, `update of ${key}`);
    }
  }
}

/** One read, resolve, fn, write-back. */
async function cycle<T>(store: JsonStore<T>, key: string, fn: Updater<T>, options: UpdateOptions<T>, attempts: number): Promise<UpdateResult<T>> {
  const { r, resolver, retries: _retries, ...write } = options;
  const read = await store.getJson(key, { ...(r === undefined ? {} : { r }), ...pick(options) });
  const values = liveValues(read.siblings);
  if (values.length > 1 && resolver === undefined) {
    throw new RingkvError('KV_ERR_UNRESOLVED_SIBLINGS', `update of "${key}" found ${values.length} siblings from concurrent writers and no resolver to merge them`, 300, { siblings: values.length });
  }
  const current = values.length === 0 ? undefined : values.length === 1 ? values[0] : resolver!(values);
  const next = await fn(current);
  // fn may have taken long: an abort meanwhile must not be followed by a write.
  throwIfAborted(options.signal, `update of ${key}`);
  await store.putJson(key, next, { ...write, ...(read.context === undefined ? {} : { context: read.context }) });
  return { value: next, attempts, siblingsMerged: values.length > 1 ? values.length : 0 };
}

/** The options the read shares with the write. */
function pick<T>(options: UpdateOptions<T>): GetJsonOptions<T> {
  return {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.codec === undefined ? {} : { codec: options.codec }),
  };
}
