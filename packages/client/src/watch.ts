/**
 * watch(): a key's changes as an async iterator (docs/watch.md, docs/client.md "Watching a
 * key"). Each step is one long poll, `GET /kv/{key}?changed_since=CONTEXT&timeout_ms=T`: a
 * 304 means nothing new within T and is simply asked again; any other answer is the key's
 * state at r (a value, siblings, or a deletion), yielded with its context, which the next poll
 * sends. Because the context travels with every poll, a watch that loses its node (a crash,
 * a restart, a 503) resumes on another with what it last saw, and is told of every change
 * made meanwhile: delivery is at least once, of the latest state (intermediate states may be
 * merged into one).
 *
 * Connection errors and 5xx answers are retried on the next node by the client's own failover
 * (client.ts `send`); when every node failed, the next round waits a jittered backoff
 * (full jitter, base 100 ms, cap 2 s) and starts again, for as long as the caller watches.
 * A 4xx (a bad or foreign context, a token without the read grant) ends the watch with its
 * error: asking again would get the same answer. The caller's AbortSignal ends it quietly.
 */
import { RingkvAbortError, RingkvError, errorFromResponse } from './errors.js';
import { sleep } from './backoff.js';
import type { CallOptions, GetResult, Sibling } from './types.js';

/** What a long poll answered, as client.ts reads it off the wire. */
export interface WatchAnswer {
  readonly status: number;
  readonly context: string | undefined;
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
}

export interface WatchOptions extends Omit<CallOptions, 'timeoutMs'> {
  /** Start after this context (a read's): only later changes are yielded. Default: the key's current state first. */
  readonly context?: string;
  readonly r?: number;
  /** How long each long poll may wait before it is asked again (default 30 s; the node caps it, default 300 s). */
  readonly pollTimeoutMs?: number;
}

/** One state of the key: what a get() would have returned, with its context. */
export type WatchEvent = GetResult & { readonly context: string; readonly deleted: boolean };

export const WATCH_POLL_TIMEOUT_MS_DEFAULT = 30_000;
export const WATCH_BACKOFF_BASE_MS = 100;
export const WATCH_BACKOFF_CAP_MS = 2_000;

/** The delay after `failures` failed rounds in a row: uniform in [0, min(cap, base·2^(failures-1))). */
export function watchBackoffMs(failures: number, random: () => number): number {
  return Math.floor(random() * Math.min(WATCH_BACKOFF_CAP_MS, WATCH_BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16)));
}

/** A long poll's answer as an event, undefined for a 304; throws the coded error of anything else. */
export function watchEvent(answer: WatchAnswer, path: string): WatchEvent | undefined {
  if (answer.status === 304) return undefined;
  const text = () => new TextDecoder().decode(answer.body);
  const json = () => {
    try {
      return JSON.parse(text()) as unknown;
    } catch {
      return undefined;
    }
  };
  const context = answer.context ?? '';
  if (answer.status === 200) {
    const contentType = answer.contentType ?? 'application/octet-stream';
    const value = new Uint8Array(answer.body);
    return { found: true, deleted: false, siblings: [{ deleted: false, value, contentType }], value, contentType, context };
  }
  if (answer.status === 300) {
    const body = json() as { context?: unknown; siblings?: unknown } | undefined;
    if (typeof body?.context !== 'string' || !Array.isArray(body.siblings)) throw new RingkvError('KV_ERR_BAD_RESPONSE', 'a 300 answer without a siblings body', 300);
    const siblings: Sibling[] = (body.siblings as Array<{ deleted?: boolean; value?: string; contentType?: string }>).map((s) =>
      s.deleted === true ? { deleted: true } : { deleted: false, value: new Uint8Array(Buffer.from(s.value ?? '', 'base64')), contentType: s.contentType ?? 'application/octet-stream' },
    );
    return { found: true, deleted: false, siblings, context: body.context };
  }
  const body = json() as { error?: { code?: string; deleted?: boolean } } | undefined;
  if (answer.status === 404 && body?.error?.code === 'KV_ERR_NOT_FOUND') return { found: false, deleted: true, siblings: [], context };
  throw errorFromResponse(answer.status, body, path);
}

/**
 * The watch loop over `poll` (one long poll through the client's failover). Yields each new
 * state; returns when `options.signal` fires.
 */
export async function* watchKey(
  poll: (context: string, timeoutMs: number, signal: AbortSignal | undefined) => Promise<{ answer: WatchAnswer; path: string }>,
  options: WatchOptions,
  random: () => number,
): AsyncGenerator<WatchEvent, void, undefined> {
  const { signal } = options;
  const timeoutMs = options.pollTimeoutMs ?? WATCH_POLL_TIMEOUT_MS_DEFAULT;
  let context = options.context ?? '';
  let failures = 0;
  const aborted = () => signal?.aborted === true;
  while (!aborted()) {
    let event: WatchEvent | undefined;
    try {
      const { answer, path } = await poll(context, timeoutMs, signal);
      event = watchEvent(answer, path);
      failures = 0;
    } catch (error) {
      if (error instanceof RingkvAbortError || aborted()) return;
      // A refusal the next node would repeat ends the watch; anything else is retried.
      if (error instanceof RingkvError && error.status >= 400 && error.status < 500) throw error;
      failures++;
      try {
        await sleep(watchBackoffMs(failures, random), signal, 'watch');
      } catch {
        return;
      }
      continue;
    }
    if (event === undefined) continue;
    context = event.context;
    yield event;
  }
}
