/**
 * Client routes of the fixed contract: GET, PUT and DELETE of /kv/{key}. Every option is parsed
 * and the context decoded before any work (parse.ts); the body is read under the value limit.
 */
import type { Hono } from 'hono';
import type { VersionVector } from '../core/clock.js';
import { visibleAt, type VersionedObject } from '../core/versioned.js';
import type { KvService } from '../replication/kv-service.js';
import { parseDelete, parsePut, parseRead, type ClientLimits } from './parse.js';
import { incomingOf, readBody } from './request.js';
import { renderRead } from './render.js';
import { casRoutes, type CasDeps } from './cas-routes.js';

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
  /** The clock request deadlines are measured on: monotonic (Timers.monotonicMs). */
  readonly monotonicMs: () => number;
  /** Compare-and-set (cas-routes.ts): requests with if_version, if_absent or consistent go there. */
  readonly cas?: CasDeps;
  /** Randomness for the data types' fresh actors (dt-actors.ts): injected, so a simulation replays. */
  readonly random: () => number;
}

export function clientRoutes(app: Hono, deps: ClientDeps): void {
  const limits: ClientLimits = {
    n: deps.n,
    keyBytesMax: deps.keyBytesMax,
    requestTimeoutMsDefault: deps.requestTimeoutMsDefault,
    requestTimeoutMsMax: deps.requestTimeoutMsMax,
    decodeContext: (token, key) => deps.contexts.decode(token, key),
  };

  app.use('/kv/*', async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      deps.observe(c.req.method.toLowerCase(), c.res.status, (performance.now() - started) / 1000);
    }
  });
  if (deps.cas !== undefined) casRoutes(app, limits, deps.valueBytesMax, deps.cas);

  app.get('/kv/*', async (c) => {
    const read = parseRead(c, limits);
    const object = await deps.kv.get(read.key, read);
    return renderRead(read.key, object === undefined ? undefined : visibleAt(object, deps.nowMs()), deps.contexts.encode);
  });

  app.put('/kv/*', async (c) => {
    const put = parsePut(c, limits);
    const value = await readBody(c.req.raw, deps.valueBytesMax, incomingOf(c));
    await deps.kv.put(put.key, { context: put.context, deleted: false, value, contentType: put.contentType, ttlMs: put.ttlMs, ...(put.requestId === undefined ? {} : { requestId: put.requestId }) }, put.options);
    return c.body(null, 204);
  });

  app.delete('/kv/*', async (c) => {
    const del = parseDelete(c, limits);
    await deps.kv.put(del.key, { context: del.context, deleted: true, value: new Uint8Array(0), contentType: '', ...(del.requestId === undefined ? {} : { requestId: del.requestId }) }, del.options);
    return c.body(null, 204);
  });
}
