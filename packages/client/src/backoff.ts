/**
 * Waits between update() attempts: small, capped, with full jitter (AWS Architecture Blog,
 * "Exponential Backoff and Jitter"), so that writers that collided do not collide again in
 * step. The delay is pure (random injected); the waits are abortable.
 */
import { RingkvAbortError } from './errors.js';

/** First delay bound and cap, in ms: contention on one key clears in a few round trips. */
export const BACKOFF_BASE_MS = 10;
export const BACKOFF_CAP_MS = 250;

/** The delay before attempt `attempt + 1` (attempt ≥ 0): uniform in [0, min(cap, base·2^attempt)). */
export function backoffMs(attempt: number, random: () => number): number {
  return Math.floor(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
}

/** Throws the abort error for `signal` when it has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new RingkvAbortError(`${what} aborted`, { cause: signal.reason });
}

/** Resolves after `ms`, or rejects with a RingkvAbortError as soon as `signal` fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RingkvAbortError(`${what} aborted`, { cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new RingkvAbortError(`${what} aborted`, { cause: signal!.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or a RingkvAbortError as soon as `signal` fires (the promise is left to settle). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return promise;
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new RingkvAbortError(`${what} aborted`, { cause: signal.reason }));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}
