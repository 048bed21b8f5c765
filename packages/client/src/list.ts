/**
 * Listing keys from the client (docs/listing.md, docs/client.md): the query of `GET /kv`, the
 * check of its answer, and `listAll`, an async iterator over the pages that resumes from each
 * page's `next` until the listing ends.
 */
import { RingkvError } from './errors.js';
import type { CallOptions } from './types.js';

/** The most keys one page may hold (the node refuses more with a 400). */
export const LIST_LIMIT_MAX = 1_000;

export interface ListOptions extends CallOptions {
  /** Only keys starting with it (default: every key the token may read). */
  readonly prefix?: string;
  /** Only keys after it in byte order: the `next` of the previous page. */
  readonly after?: string;
  /** Keys per page, 1 to 1,000 (default 100, the node's). */
  readonly limit?: number;
  /** Replicas asked per range, their answers merged (default 1). */
  readonly r?: number;
}

/** One page: keys in byte order, and the `after` of the next page, or null at the end. */
export interface KeyListPage {
  readonly keys: readonly string[];
  readonly next: string | null;
}

/** The path and query of one page's request. */
export function listPath(options: ListOptions, timeoutMs: number): string {
  const { limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX)) {
    throw new TypeError(`list: limit must be an integer from 1 to ${LIST_LIMIT_MAX} (got ${limit})`);
  }
  const query = new URLSearchParams();
  if (options.prefix !== undefined && options.prefix !== '') query.set('prefix', options.prefix);
  if (options.after !== undefined && options.after !== '') query.set('after', options.after);
  if (limit !== undefined) query.set('limit', String(limit));
  if (options.r !== undefined) query.set('r', String(options.r));
  query.set('timeout_ms', String(timeoutMs));
  // URLSearchParams writes a space as '+', which the node reads back as a space too.
  return `/kv?${query.toString()}`;
}

/** The page a 200 answer holds, checked for shape. */
export function listPage(body: unknown): KeyListPage {
  const page = body as Partial<KeyListPage> | undefined;
  if (page === undefined || !Array.isArray(page.keys) || !page.keys.every((key) => typeof key === 'string') || !(page.next === null || typeof page.next === 'string')) {
    throw new RingkvError('KV_ERR_BAD_RESPONSE', 'a GET /kv answer without keys and next', 200);
  }
  return { keys: page.keys, next: page.next };
}

/** Every page from `options.after` on, fetched one after the other; at most `pagesMax` (default unbounded). */
export async function* pagesOf(fetch: (options: ListOptions) => Promise<KeyListPage>, options: ListOptions & { readonly pagesMax?: number }): AsyncGenerator<KeyListPage> {
  let after = options.after;
  for (let pages = 0; options.pagesMax === undefined || pages < options.pagesMax; pages++) {
    const page = await fetch({ ...options, ...(after === undefined ? {} : { after }) });
    yield page;
    if (page.next === null) return;
    after = page.next;
  }
}
