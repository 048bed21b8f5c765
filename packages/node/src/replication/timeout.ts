/**
 * Bounds a promise by a deadline, rejecting with KV_ERR_TIMEOUT (504). The work itself is not
 * cancelled: a timed-out write may still complete, so a 504 on a write means "outcome
 * unknown", as in every replicated store (docs/api.md).
 */
import { KvError } from '../errors.js';
import type { ErrorDetails } from '@ringkv/protocol';
import type { Timers } from '../timers.js';

export function withTimeout<T>(work: Promise<T>, timeoutMs: number, details: ErrorDetails, timers: Timers): Promise<T> {
  let timer: unknown;
  const deadline = new Promise<never>((_, reject) => {
    timer = timers.setTimeout(
      () => reject(new KvError('KV_ERR_TIMEOUT', `request did not complete within ${timeoutMs} ms`, { ...details, timeoutMs })),
      timeoutMs,
    );
  });
  return Promise.race([work, deadline]).finally(() => timers.clearTimeout(timer));
}
