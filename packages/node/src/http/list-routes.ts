/**
 * `GET /kv?prefix=P&after=K&limit=L&r=R&timeout_ms=T` (docs/listing.md, docs/api.md): one page
 * of keys in byte order, `{"keys": [...], "next": K | null}`. Every option is checked before any
 * work. With client tokens, only the granted prefixes under P are listed (access/list-grants.ts,
 * decided by http/access.ts), one after the other, so the page stays one ordered listing.
 * Registered before the /kv/{key} routes: their pattern matches the bare path too.
 */
import type { Context, Hono } from 'hono';
import { KvError } from '../errors.js';
import { listGrants } from '../access/list-grants.js';
import type { ListPage } from '../core/list-merge.js';
import { compareKeys, prefixEnd } from '../storage/key-listing.js';
import type { KeyLister, ListRequest } from '../replication/key-lister.js';
import { parseQuorum, parseTimeout } from './parse.js';

/** Keys in a page unless `limit` says otherwise, and the most it may say. */
export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1_000;

export interface ListDeps {
  readonly lister: Pick<KeyLister, 'list'>;
  readonly n: number;
  readonly keyBytesMax: number;
  readonly requestTimeoutMsDefault: number;
  readonly requestTimeoutMsMax: number;
  /** Records one request for /metrics (op "list"). */
  readonly observe: (op: string, status: number, seconds: number) => void;
}

function boundedText(c: Context, name: 'prefix' | 'after', keyBytesMax: number): string {
  const value = c.req.query(name) ?? '';
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > keyBytesMax) throw new KvError('KV_ERR_BAD_REQUEST', `${name} is ${bytes} bytes; a key is at most ${keyBytesMax}`, { parameter: name, max: keyBytesMax });
  return value;
}

/** The request's options, or a coded 400. */
export function parseList(c: Context, deps: ListDeps): ListRequest {
  const rawLimit = c.req.query('limit');
  const limit = rawLimit === undefined ? LIST_LIMIT_DEFAULT : /^\d{1,7}$/.test(rawLimit) ? Number(rawLimit) : -1;
  if (limit < 1 || limit > LIST_LIMIT_MAX) {
    throw new KvError('KV_ERR_BAD_REQUEST', `limit must be an integer from 1 to ${LIST_LIMIT_MAX} (got ${JSON.stringify(rawLimit)})`, { parameter: 'limit', max: LIST_LIMIT_MAX });
  }
  const rawR = c.req.query('r');
  return {
    prefix: boundedText(c, 'prefix', deps.keyBytesMax),
    after: boundedText(c, 'after', deps.keyBytesMax),
    limit,
    // One replica per range unless asked: a listing is a scan, not a quorum read (docs/listing.md).
    r: rawR === undefined ? 1 : parseQuorum(rawR, 'r', deps.n),
    timeoutMs: parseTimeout(c.req.query('timeout_ms'), deps.requestTimeoutMsDefault, deps.requestTimeoutMsMax),
  };
}

/**
 * A page over several disjoint prefixes in byte order: each is listed from the cursor until
 * the page is full or a listing stops short of its end (its `next` is then the page's).
 */
export async function listPrefixes(lister: Pick<KeyLister, 'list'>, prefixes: readonly string[], request: ListRequest): Promise<ListPage> {
  const keys: string[] = [];
  for (const prefix of prefixes) {
    const end = prefixEnd(prefix);
    if (end !== undefined && compareKeys(request.after, end) >= 0) continue;
    const page = await lister.list({ ...request, prefix, limit: request.limit - keys.length });
    keys.push(...page.keys);
    if (page.next !== null) return { keys, next: page.next };
    if (keys.length === request.limit) return { keys, next: keys.at(-1)! };
  }
  return { keys, next: null };
}

export function listRoutes(app: Hono, deps: ListDeps): void {
  // The bare /kv takes GET only; without this the /kv/{key} routes would take other methods
  // and answer "empty key".
  app.use('/kv', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const error = new KvError('KV_ERR_METHOD_NOT_ALLOWED', `${c.req.method} is not allowed here`, { allow: 'GET' });
    return c.json(error.toBody(), 405, { allow: 'GET' });
  });

  app.get('/kv', async (c) => {
    const started = performance.now();
    let status = 500;
    try {
      const request = parseList(c, deps);
      const page = await listPrefixes(deps.lister, listGrants.get(c.req.raw) ?? [request.prefix], request);
      status = 200;
      return c.json({ keys: page.keys, next: page.next });
    } catch (error) {
      status = error instanceof KvError ? error.status : 500;
      throw error;
    } finally {
      deps.observe('list', status, (performance.now() - started) / 1000);
    }
  });
}
