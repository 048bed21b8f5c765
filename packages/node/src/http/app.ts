/**
 * The node's HTTP app as a value (STYLE.md §7): `createApp(deps)` returns a Hono app that
 * `node.ts` serves and tests drive with `app.request()`. Client routes (/kv/*), admin routes,
 * the error handler that turns every failure into the JSON error body of the catalog, 404 for
 * unknown routes and 405 (with Allow) for known routes under the wrong method.
 */
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { CONTEXT_HEADER, DEFAULT_CONTENT_TYPE, type StatusBody } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { NodeConfig } from '../config.js';
import type { VersionVector } from '../core/clock.js';
import type { VersionedObject } from '../core/versioned.js';
import type { KvService } from '../replication/kv-service.js';
import type { Store } from '../storage/store.js';
import { parseKey, parseQuorum, parseTimeout, readBody } from './request.js';
import { renderRead, siblingsBody } from './render.js';

export interface AppDeps {
  readonly config: NodeConfig;
  readonly kv: KvService;
  /** This node's own replica store, for /admin/local. */
  readonly store: Store;
  readonly logger: Logger;
  readonly contexts: {
    encode(object: VersionedObject): string;
    decode(token: string): VersionVector;
  };
  readonly status: () => StatusBody;
  /** True once a graceful stop began: new requests get 503 KV_ERR_SHUTTING_DOWN. */
  readonly isStopping: () => boolean;
}

const CONTENT_TYPE_CHARS_MAX = 256;

function errorJson(c: Context, error: KvError, headers: Record<string, string> = {}): Response {
  return c.json(error.toBody(), error.status as 400, headers);
}

function contextFrom(c: Context, deps: AppDeps): VersionVector {
  const token = c.req.header(CONTEXT_HEADER);
  return token === undefined || token === '' ? [] : deps.contexts.decode(token);
}

function contentTypeFrom(c: Context): string {
  const value = c.req.header('content-type') ?? DEFAULT_CONTENT_TYPE;
  if (value.length > CONTENT_TYPE_CHARS_MAX) {
    throw new KvError('KV_ERR_BAD_REQUEST', `Content-Type is longer than ${CONTENT_TYPE_CHARS_MAX} characters`);
  }
  return value;
}

function clientRoutes(app: Hono, deps: AppDeps): void {
  const { config, kv } = deps;
  const timeoutOf = (c: Context) => parseTimeout(c.req.query('timeout_ms'), config.requestTimeoutMsDefault, config.requestTimeoutMsMax);

  app.get('/kv/*', async (c) => {
    const key = parseKey(c.req.url, '/kv/', config.keyBytesMax);
    const r = parseQuorum(c.req.query('r'), 'r', config.n);
    const object = await kv.get(key, { r, timeoutMs: timeoutOf(c) });
    return renderRead(key, object, deps.contexts.encode);
  });

  app.put('/kv/*', async (c) => {
    const key = parseKey(c.req.url, '/kv/', config.keyBytesMax);
    const w = parseQuorum(c.req.query('w'), 'w', config.n);
    const timeoutMs = timeoutOf(c);
    const context = contextFrom(c, deps);
    const contentType = contentTypeFrom(c);
    const value = await readBody(c.req.raw, config.valueBytesMax);
    await kv.put(key, { context, deleted: false, value, contentType }, { w, timeoutMs });
    return c.body(null, 204);
  });

  app.delete('/kv/*', async (c) => {
    const key = parseKey(c.req.url, '/kv/', config.keyBytesMax);
    const w = parseQuorum(c.req.query('w'), 'w', config.n);
    const timeoutMs = timeoutOf(c);
    const context = contextFrom(c, deps);
    await kv.put(key, { context, deleted: true, value: new Uint8Array(0), contentType: '' }, { w, timeoutMs });
    return c.body(null, 204);
  });
}

function adminRoutes(app: Hono, deps: AppDeps): void {
  app.get('/admin/status', (c) => c.json(deps.status()));

  app.get('/admin/local/*', (c) => {
    const key = parseKey(c.req.url, '/admin/local/', deps.config.keyBytesMax);
    const object = deps.store.get(key);
    if (object === undefined) return errorJson(c, new KvError('KV_ERR_NOT_FOUND', 'this node holds nothing for the key', { key }));
    return c.json({ key, ...siblingsBody(object, deps.contexts.encode(object)) });
  });
}

/** Methods each route prefix accepts, for 405 and the Allow header. */
const allowedMethods: ReadonlyArray<[prefix: string, methods: string]> = [
  ['/kv/', 'GET, PUT, DELETE'],
  ['/admin/local/', 'GET'],
  ['/admin/status', 'GET'],
];

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    if (deps.isStopping()) return errorJson(c, new KvError('KV_ERR_SHUTTING_DOWN', 'the node is stopping; retry on another node'));
    await next();
  });

  clientRoutes(app, deps);
  adminRoutes(app, deps);

  app.notFound((c) => {
    const match = allowedMethods.find(([prefix]) => c.req.path === prefix || (prefix.endsWith('/') && c.req.path.startsWith(prefix)));
    if (match !== undefined) {
      return errorJson(c, new KvError('KV_ERR_METHOD_NOT_ALLOWED', `${c.req.method} is not allowed here`, { allow: match[1] }), {
        allow: match[1],
      });
    }
    return errorJson(c, new KvError('KV_ERR_NO_ROUTE', `no route for ${c.req.method} ${c.req.path}`));
  });

  app.onError((error, c) => {
    if (error instanceof KvError) {
      // A body we refused to read is left on the socket: close the connection rather than drain it.
      const headers: Record<string, string> = error.code === 'KV_ERR_VALUE_TOO_LARGE' ? { connection: 'close' } : {};
      if (error.status >= 500) deps.logger.warn({ err: error, code: error.code }, 'request failed');
      return errorJson(c, error, headers);
    }
    deps.logger.error({ err: error, path: c.req.path, method: c.req.method }, 'unexpected error');
    return errorJson(c, new KvError('KV_ERR_INTERNAL', 'internal error; see the node log'));
  });

  return app;
}
