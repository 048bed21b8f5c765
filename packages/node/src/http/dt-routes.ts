/**
 * The data type routes (docs/datatypes.md): `GET /dt/{key}` answers the key's joined state as
 * `{type, value, context}`; `POST /dt/{key}` applies one operation (a JSON body) and answers
 * the state it wrote. `r`, `w`, `pw`, `sloppy` and `timeout_ms` mean what they mean for /kv
 * (a POST reads at `r`, then writes at `w`, both within one `timeout_ms`). Parameters and the
 * body are validated before any state is read; every failure is a coded error.
 */
import type { Context, Hono } from 'hono';
import { defaultDataTypeLimits, encodeContextToken, parseOperationText, valueOf, type DataType } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { asKvError, DataTypeService } from '../replication/dt-service.js';
import type { ClientDeps } from './client-routes.js';
import { incomingOf, parseKey, parseQuorum, parseTimeout, readBody } from './request.js';

/** Keys whose data type actor a node remembers (dt-actors.ts); about 100 bytes each. */
const ACTOR_KEYS_MAX = 100_000;
/** Writes of one key that may queue at a node behind the one in flight. */
const QUEUED_PER_KEY_MAX = 256;

/** The JSON body of a read (and of a write's answer). */
export function dataTypeBody(state: DataType): { type: string; value: unknown; context: string } {
  return { type: state.store.kind, value: valueOf(state), context: encodeContextToken(state.context) };
}

export function dtRoutes(app: Hono, deps: ClientDeps): void {
  const limits = { ...defaultDataTypeLimits, bytesMax: deps.valueBytesMax };
  const service = new DataTypeService({
    kv: deps.kv,
    limits,
    nowMs: deps.nowMs,
    monotonicMs: deps.monotonicMs,
    random: deps.random,
    actorKeysMax: ACTOR_KEYS_MAX,
    queuedPerKeyMax: QUEUED_PER_KEY_MAX,
    n: deps.n,
  });
  const keyOf = (c: Context) => parseKey(c.req.url, '/dt/', deps.keyBytesMax);
  const timeoutOf = (c: Context) => parseTimeout(c.req.query('timeout_ms'), deps.requestTimeoutMsDefault, deps.requestTimeoutMsMax);

  /** w, pw and sloppy as /kv takes them (client-routes.ts). */
  const writeOptionsOf = (c: Context) => {
    const w = parseQuorum(c.req.query('w'), 'w', deps.n);
    const pwRaw = c.req.query('pw');
    const pw = pwRaw === undefined ? 0 : /^\d{1,2}$/.test(pwRaw) && Number(pwRaw) <= w ? Number(pwRaw) : -1;
    if (pw < 0) throw new KvError('KV_ERR_BAD_QUORUM', `pw must be an integer from 0 to w=${w} (got ${JSON.stringify(pwRaw)})`, { parameter: 'pw', n: deps.n });
    const sloppyRaw = c.req.query('sloppy');
    if (sloppyRaw !== undefined && sloppyRaw !== 'true' && sloppyRaw !== 'false') {
      throw new KvError('KV_ERR_BAD_REQUEST', `sloppy must be true or false (got ${JSON.stringify(sloppyRaw)})`);
    }
    return { w, pw, ...(sloppyRaw === undefined ? {} : { sloppy: sloppyRaw === 'true' }) };
  };

  // Counted with the /kv requests: ringkv_requests_total{op="dt_get"|"dt_post"} (docs/metrics.md).
  app.use('/dt/*', async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      deps.observe(`dt_${c.req.method.toLowerCase()}`, c.res.status, (performance.now() - started) / 1000);
    }
  });

  app.get('/dt/*', async (c) => {
    const key = keyOf(c);
    const r = parseQuorum(c.req.query('r'), 'r', deps.n);
    const { state } = await service.read(key, { r, timeoutMs: timeoutOf(c) });
    if (state === undefined) throw new KvError('KV_ERR_NOT_FOUND', 'the key holds no data type', { key });
    return c.json(dataTypeBody(state));
  });

  app.post('/dt/*', async (c) => {
    const key = keyOf(c);
    const r = parseQuorum(c.req.query('r'), 'r', deps.n);
    const options = { r, ...writeOptionsOf(c), timeoutMs: timeoutOf(c) };
    const body = await readBody(c.req.raw, deps.valueBytesMax, incomingOf(c));
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      throw new KvError('KV_ERR_DT_BAD_OPERATION', 'the body is not UTF-8');
    }
    let op;
    try {
      op = parseOperationText(text, limits);
    } catch (error) {
      throw asKvError(error);
    }
    return c.json(dataTypeBody(await service.update(key, op, options)));
  });
}
