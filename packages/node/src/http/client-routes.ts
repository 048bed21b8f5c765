/**
 * Client routes of the fixed contract: GET, PUT and DELETE of /kv/{key}. Parameters are
 * validated and the context decoded before any work; the body is read under the value limit.
 */
import type { Context, Hono } from 'hono';
import { CONTEXT_HEADER, DEFAULT_CONTENT_TYPE } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { VersionVector } from '../core/clock.js';
import { visibleAt, type VersionedObject } from '../core/versioned.js';
import { TTL_MS_MAX } from '../transport/messages.js';
import type { KvService } from '../replication/kv-service.js';
import { CONTENT_TYPE_BYTES_MAX } from '../core/object-codec.js';
import { headerOf, incomingOf, parseKey, parseQuorum, parseTimeout, readBody } from './request.js';
import { renderRead } from './render.js';

export interface ClientDeps {
  readonly n: number;
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly requestTimeoutMsDefault: number;
  readonly requestTimeoutMsMax: number;
  readonly kv: KvService;
  /** Contexts are bound to the key they were read from (core/context-codec.ts). */
  readonly contexts: {
    encode(object: VersionedObject, key: string): string;
    decode(token: string, key: string): VersionVector;
  };
  /** Records one request for /metrics. */
  readonly observe: (op: string, status: number, seconds: number) => void;
  /** The clock expiries are judged by. */
  readonly nowMs: () => number;
}

function contentTypeFrom(c: Context): string {
  const value = headerOf(c, 'content-type') ?? DEFAULT_CONTENT_TYPE;
  // Bytes, not characters: the stored form bounds the UTF-8 length (regression: a 120-character
  // non-ASCII type once passed a character check and made the key unreadable).
  if (Buffer.byteLength(value) > CONTENT_TYPE_BYTES_MAX) {
    throw new KvError('KV_ERR_BAD_REQUEST', `Content-Type is longer than ${CONTENT_TYPE_BYTES_MAX} bytes`);
  }
  return value;
}

export function clientRoutes(app: Hono, deps: ClientDeps): void {
  const timeoutOf = (c: Context) => parseTimeout(c.req.query('timeout_ms'), deps.requestTimeoutMsDefault, deps.requestTimeoutMsMax);
  const keyOf = (c: Context) => parseKey(c.req.url, '/kv/', deps.keyBytesMax);
  const contextOf = (c: Context, key: string): VersionVector => {
    const token = headerOf(c, CONTEXT_HEADER);
    return token === undefined || token === '' ? [] : deps.contexts.decode(token, key);
  };

  /** w, pw (primaries that must ack, 0..w) and sloppy (true|false) of a write. */
  /** `ttl_ms`: whole milliseconds, 1 to ten years; anything else is a 400 before the body is read. */
  const ttlOf = (c: Context): number | undefined => {
    const raw = c.req.query('ttl_ms');
    if (raw === undefined) return undefined;
    if (!/^\d{1,12}$/.test(raw) || Number(raw) < 1 || Number(raw) > TTL_MS_MAX) {
      throw new KvError('KV_ERR_BAD_REQUEST', `ttl_ms must be an integer from 1 to ${TTL_MS_MAX} (got ${JSON.stringify(raw)})`, { parameter: 'ttl_ms' });
    }
    return Number(raw);
  };

  const writeOptionsOf = (c: Context) => {
    const w = parseQuorum(c.req.query('w'), 'w', deps.n);
    const pwRaw = c.req.query('pw');
    const pw = pwRaw === undefined ? 0 : /^\d{1,2}$/.test(pwRaw) && Number(pwRaw) <= w ? Number(pwRaw) : -1;
    if (pw < 0) throw new KvError('KV_ERR_BAD_QUORUM', `pw must be an integer from 0 to w=${w} (got ${JSON.stringify(pwRaw)})`, { parameter: 'pw', n: deps.n });
    const sloppyRaw = c.req.query('sloppy');
    if (sloppyRaw !== undefined && sloppyRaw !== 'true' && sloppyRaw !== 'false') {
      throw new KvError('KV_ERR_BAD_REQUEST', `sloppy must be true or false (got ${JSON.stringify(sloppyRaw)})`);
    }
    return { w, pw, timeoutMs: timeoutOf(c), ...(sloppyRaw === undefined ? {} : { sloppy: sloppyRaw === 'true' }) };
  };

  app.use('/kv/*', async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      deps.observe(c.req.method.toLowerCase(), c.res.status, (performance.now() - started) / 1000);
    }
  });

  app.get('/kv/*', async (c) => {
    const key = keyOf(c);
    const r = parseQuorum(c.req.query('r'), 'r', deps.n);
    const object = await deps.kv.get(key, { r, timeoutMs: timeoutOf(c) });
    return renderRead(key, object === undefined ? undefined : visibleAt(object, deps.nowMs()), deps.contexts.encode);
  });

  app.put('/kv/*', async (c) => {
    const key = keyOf(c);
    const options = writeOptionsOf(c);
    const context = contextOf(c, key);
    const contentType = contentTypeFrom(c);
    const ttlMs = ttlOf(c);
    const value = await readBody(c.req.raw, deps.valueBytesMax, incomingOf(c));
    await deps.kv.put(key, { context, deleted: false, value, contentType, ...(ttlMs === undefined ? {} : { ttlMs }) }, options);
    return c.body(null, 204);
  });

  app.delete('/kv/*', async (c) => {
    const key = keyOf(c);
    const options = writeOptionsOf(c);
    const context = contextOf(c, key);
    await deps.kv.put(key, { context, deleted: true, value: new Uint8Array(0), contentType: '' }, options);
    return c.body(null, 204);
  });
}
