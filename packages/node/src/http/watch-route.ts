/**
 * `GET /kv/{key}?changed_since=CONTEXT&timeout_ms=T` (docs/watch.md): the read of the fixed
 * contract, answered once the key's state at r holds a write CONTEXT has not seen, or `304 Not
 * Modified` (no body, the same context) at the timeout. A GET without `changed_since` is left
 * to client-routes.ts. Registered before it, so the options are parsed here with the same
 * parsers (parse.ts) and every bad one is the same coded 400; the context is decoded and
 * verified exactly as the X-Ringkv-Context header is. Client tokens apply as to any GET (the
 * read grant), checked by access.ts before any route.
 */
import type { Hono } from 'hono';
import { CONTEXT_HEADER } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { VersionVector } from '../core/clock.js';
import { visibleAt } from '../core/versioned.js';
import type { KeyWatchService } from '../replication/key-watch.js';
import type { ClientDeps } from './client-routes.js';
import { parseContext, parseKey, parseQuorum, parseTimeout, type EdgeRequest } from './parse.js';
import { renderRead } from './render.js';

/** A watch's timeout bounds: the default when `timeout_ms` is absent, and the cap. */
export interface WatchLimits {
  readonly timeoutMsDefault: number;
  readonly timeoutMsMax: number;
}

/** A parsed watch: the read's key and r, the context it waits past (and its token, echoed by a 304), and the timeout. */
export interface WatchRequestParsed {
  readonly key: string;
  readonly r: number;
  readonly token: string;
  readonly context: VersionVector;
  readonly timeoutMs: number;
}

/** GET /kv/{key}?changed_since=…: key, r, timeout_ms (the watch's own cap), the context. */
export function parseWatch(c: EdgeRequest, token: string, limits: { n: number; keyBytesMax: number; decodeContext: ClientDeps['contexts']['decode'] } & WatchLimits): WatchRequestParsed {
  const key = parseKey(c.req.url, '/kv/', limits.keyBytesMax);
  const r = parseQuorum(c.req.query('r'), 'r', limits.n);
  const timeoutMs = parseTimeout(c.req.query('timeout_ms'), limits.timeoutMsDefault, limits.timeoutMsMax);
  return { key, r, token, context: parseContext(token, key, limits.decodeContext), timeoutMs };
}

export function watchRoutes(app: Hono, deps: ClientDeps, watch: KeyWatchService, limits: WatchLimits): void {
  const parseLimits = { n: deps.n, keyBytesMax: deps.keyBytesMax, decodeContext: deps.contexts.decode, ...limits };

  app.get('/kv/*', async (c, next) => {
    // Every GET passes here: one string search for the plain ones, as parseCas does for PUTs.
    const token = c.req.url.includes('changed_since') ? c.req.query('changed_since') : undefined;
    if (token === undefined) return next();
    const started = performance.now();
    let status = 500;
    try {
      const request = parseWatch(c, token, parseLimits);
      const outcome = await watch.watch({ key: request.key, r: request.r, context: request.context, timeoutMs: request.timeoutMs, signal: c.req.raw.signal });
      const response = outcome.changed
        ? renderRead(request.key, visibleAt(outcome.object, deps.nowMs()), deps.contexts.encode)
        : new Response(null, { status: 304, headers: token === '' ? {} : { [CONTEXT_HEADER]: token } });
      status = response.status;
      return response;
    } catch (error) {
      status = error instanceof KvError ? error.status : 500;
      throw error;
    } finally {
      // Its own op: a watch lasts up to its timeout and would swamp the GET latencies.
      deps.observe('watch', status, (performance.now() - started) / 1000);
    }
  });
}
