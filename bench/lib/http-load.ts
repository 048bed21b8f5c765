/**
 * The store-neutral HTTP operations of the side-by-side runs: the same undici `Pool`s (one per
 * endpoint, keep-alive, no pipelining, the loops spread round-robin over the endpoints, as in
 * ../shared/peers/etcd-load.mjs) and the same load loop (lib/load.ts) for every target; only
 * the request each target needs differs:
 *
 * - ringkv (and the do-nothing server): `PUT /kv/<key>` with the raw value (204), `GET /kv/<key>` (200);
 * - etcd: `POST /v3/kv/put` and `POST /v3/kv/range` on its v3 JSON gateway, base64 key and value.
 *
 * A ringkv 404 or etcd range without `kvs` is an answer (counted as a miss), a ringkv 300
 * (siblings) too (counted); any other status is an error named by its ringkv code or `HTTP n`.
 */
import { Pool } from 'undici';
import type { Exec } from './load.js';

export type Protocol = 'ringkv' | 'etcd';

export interface HttpOps {
  /** Writes key `keyOf(index)`. */
  put(keyOf: (index: number) => string): Exec;
  /** Reads key `keyOf(index)`. */
  get(keyOf: (index: number) => string): Exec;
  close(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function httpOps(protocol: Protocol, endpoints: readonly string[], clients: number, value: Buffer): HttpOps {
  const perEndpoint = Math.ceil(clients / endpoints.length);
  const pools = endpoints.map((url) => new Pool(url, { connections: perEndpoint, pipelining: 1, keepAliveTimeout: 60_000 }));
  const poolOf = (worker: number) => pools[worker % pools.length]!;
  const valueB64 = value.toString('base64');
  const json = { 'content-type': 'application/json' };
  const octets = { 'content-type': 'application/octet-stream' };

  const request = (op: 'put' | 'get', keyOf: (index: number) => string): Exec => async ({ index, worker, t0 }, rec) => {
    const key = keyOf(index);
    const options =
      protocol === 'etcd'
        ? { method: 'POST' as const, path: op === 'put' ? '/v3/kv/put' : '/v3/kv/range', headers: json, body: op === 'put' ? `{"key":"${b64(key)}","value":"${valueB64}"}` : `{"key":"${b64(key)}"}` }
        : { method: op === 'put' ? ('PUT' as const) : ('GET' as const), path: `/kv/${key}`, headers: op === 'put' ? octets : {}, body: op === 'put' ? value : null };
    try {
      const response = await poolOf(worker).request({ ...options, headersTimeout: 30_000, bodyTimeout: 30_000 });
      const text = await response.body.text();
      const status = response.statusCode;
      if (status === 200 || status === 204) {
        rec.ok(op, t0);
        if (protocol === 'etcd' && op === 'get' && !text.includes('"kvs"')) rec.count('misses', t0);
      } else if (protocol === 'ringkv' && (status === 404 || status === 300) && op === 'get') {
        rec.ok(op, t0);
        rec.count(status === 404 ? 'misses' : 'siblingReads', t0);
      } else {
        const code = /"code":"(KV_ERR_[A-Z_]+)"/.exec(text)?.[1] ?? `HTTP ${status}`;
        rec.fail(op, t0, code);
      }
    } catch (error) {
      rec.fail(op, t0, (error as { code?: string }).code ?? 'EXCEPTION');
    }
  };
  return {
    put: (keyOf) => request('put', keyOf),
    get: (keyOf) => request('get', keyOf),
    close: async () => {
      await Promise.all(pools.map((pool) => pool.close()));
    },
  };
}
