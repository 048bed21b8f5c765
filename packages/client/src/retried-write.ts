/**
 * At-most-once retries of put() and delete() (issue 17.3, docs/idempotency.md). Every write
 * carries a request id (the caller's `requestId`, or a fresh random UUID) in
 * X-Ringkv-Request-Id. When its outcome is unknown (no answer after it was sent, a 504, or a
 * quorum missed after replicas may have stored it), the SAME request, with the same id, body
 * and context, is sent again after a jittered backoff, a bounded number of times, possibly to
 * another node: the nodes recognise the id in the sibling the first attempt left, or collapse
 * the two attempts into one where they meet, so the write is applied once. Without the id the
 * retry would be a second write (a second sibling, or an overwritten value revived).
 *
 * Pure apart from the waits: the send and the randomness are injected.
 */
import { randomUUID } from 'node:crypto';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from '@ringkv/protocol';
import { RingkvError } from './errors.js';
import { backoffMs, sleep } from './backoff.js';

/** Sends of a write whose outcome was unknown, after the first, by default. */
export const WRITE_RETRIES_DEFAULT = 2;
/** The most retries a call may ask for. */
export const WRITE_RETRIES_MAX = 10;

/** The options of a retried write, as put() and delete() take them. */
export interface RetryOptions {
  /** The write's id (A-Z a-z 0-9 . _ : -, at most 128); default a random UUID per call. */
  readonly requestId?: string;
  /** Sends with the same id after an unknown outcome (default WRITE_RETRIES_DEFAULT, at most WRITE_RETRIES_MAX; 0: none). */
  readonly retries?: number;
  readonly signal?: AbortSignal;
}

/** The request id a write is sent with: the caller's, checked, or a fresh one. */
export function requestIdOf(options: RetryOptions, newId: () => string = randomUUID): string {
  const id = options.requestId ?? newId();
  if (!REQUEST_ID_PATTERN.test(id)) throw new TypeError('requestId must be 1 to 128 characters of A-Z a-z 0-9 . _ : -');
  return id;
}

/** The header that names the write. */
export function requestIdHeader(id: string): Record<string, string> {
  return { [REQUEST_ID_HEADER]: id };
}

/**
 * True for an error after which the write may have applied and the same id may be sent again.
 * A caller's abort is not retried: the caller asked to stop.
 */
export function outcomeUnknown(error: unknown): boolean {
  if (!(error instanceof RingkvError) || !error.mayHaveApplied || error.details.aborted === true) return false;
  return error.code === 'KV_ERR_OUTCOME_UNKNOWN' || error.code === 'KV_ERR_TIMEOUT' || error.code === 'KV_ERR_QUORUM_UNMET';
}

/**
 * Runs `send` (one attempt, with the id already in its headers) and sends it again while its
 * outcome is unknown, at most `options.retries` times with jittered backoff. The last error
 * is thrown as it came (`mayHaveApplied` still true): the caller may retry later with the
 * same `requestId`.
 */
export async function retried<T>(what: string, send: () => Promise<T>, options: RetryOptions, random: () => number): Promise<T> {
  const retries = Math.max(0, Math.min(options.retries ?? WRITE_RETRIES_DEFAULT, WRITE_RETRIES_MAX));
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!outcomeUnknown(error) || attempt >= retries) throw error;
      await sleep(backoffMs(attempt, random), options.signal, what);
    }
  }
}
