/**
 * getMany(): many reads in parallel with a bound on how many are in flight, answered in the
 * order of the keys. One key's failure is that key's entry, not the call's: a batch read in
 * which one key sits on unreachable replicas still returns the rest.
 */
import { RingkvAbortError, RingkvError } from './errors.js';
import { throwIfAborted } from './backoff.js';
import type { GetOptions, GetResult } from './types.js';

export interface GetManyOptions extends Omit<GetOptions, 'resolve' | 'w'> {
  /** Reads in flight at once (default 8, at most 64). */
  readonly concurrency?: number;
}

/** One key's outcome: its result, or the error its read ended with. */
export type GetManyEntry =
  | { readonly key: string; readonly ok: true; readonly result: GetResult }
  | { readonly key: string; readonly ok: false; readonly error: RingkvError };

export const GET_MANY_CONCURRENCY_DEFAULT = 8;
export const GET_MANY_CONCURRENCY_MAX = 64;
export const GET_MANY_KEYS_MAX = 10_000;

/**
 * Runs `read` for every key, at most `concurrency` at once. Rejects only on bad arguments and
 * on the caller's abort (then with a RingkvAbortError, whatever had completed).
 */
export async function getMany(keys: readonly string[], read: (key: string, signal?: AbortSignal) => Promise<GetResult>, options: GetManyOptions): Promise<GetManyEntry[]> {
  const concurrency = options.concurrency ?? GET_MANY_CONCURRENCY_DEFAULT;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > GET_MANY_CONCURRENCY_MAX) {
    throw new TypeError(`getMany: concurrency must be an integer from 1 to ${GET_MANY_CONCURRENCY_MAX} (got ${concurrency})`);
  }
  if (keys.length > GET_MANY_KEYS_MAX) throw new TypeError(`getMany: at most ${GET_MANY_KEYS_MAX} keys per call (got ${keys.length})`);
  const signal = options.signal;
  throwIfAborted(signal, 'getMany');
  const entries: GetManyEntry[] = new Array(keys.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const index = next++;
      const key = keys[index]!;
      try {
        entries[index] = { key, ok: true, result: await read(key, signal) };
      } catch (error) {
        if (error instanceof RingkvAbortError || signal?.aborted) throw error;
        const coded = error instanceof RingkvError ? error : new RingkvError('KV_ERR_BAD_RESPONSE', `read of "${key}" failed: ${(error as Error).message}`, 0, {}, { cause: error });
        entries[index] = { key, ok: false, error: coded };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  throwIfAborted(signal, 'getMany');
  return entries;
}
