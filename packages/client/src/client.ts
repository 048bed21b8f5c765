/**
 * The ringkv client: talks to any set of nodes through one undici Pool per node, fails over
 * to the next node on connection errors and 5xx answers within a bounded retry budget (writes
 * only when they surely reached no node), takes r/w/pw/sloppy/timeout and an AbortSignal per
 * call, returns siblings with the context, resolves them through a caller's hook, and adds
 * JSON values, update() (update.ts) and getMany (get-many.ts) on top. docs/client.md.
 */
import { Pool, type Dispatcher } from 'undici';
import { CONTEXT_HEADER, type SiblingsBody } from '@ringkv/protocol';
import { RingView } from './ring-view.js';
import { OutcomeUnknownError, RingkvAbortError, RingkvError, UnreachableError, errorFromResponse, neverSent } from './errors.js';
import { ON_SENT, sentTracker } from './sent-tracker.js';
import { abortable, throwIfAborted } from './backoff.js';
import { decodeSiblings, jsonCodec, liveValues, type Codec } from './codec.js';
import { getMany, type GetManyEntry, type GetManyOptions } from './get-many.js';
import { runUpdate, type Updater, type UpdateOptions, type UpdateResult } from './update.js';
import { checkOperation, dataTypeValue, type DataTypeReadOptions, type DataTypeRemoveOptions, type DataTypeValue, type DataTypeWriteOptions, type MapOperation } from './datatypes.js';
import { runCas, runGetConsistent, type CasOptions, type CasResult, type CasTransport, type ConsistentRead } from './cas.js';
import { listPage, listPath, pagesOf, type KeyListPage, type ListOptions } from './list.js';
import { watchKey, type WatchEvent, type WatchOptions } from './watch.js';
import { requestIdHeader, requestIdOf, retried } from './retried-write.js';
import type { DeleteOptions, GetJsonOptions, GetJsonResult, GetOptions, GetResult, PutOptions, Sibling, WriteOptions } from './types.js';

export interface ClientOptions {
  /** Node base URLs, such as http://127.0.0.1:7070. At least one. */
  readonly urls: readonly string[];
  /** Default per-call timeout in ms (default 5000). */
  readonly timeoutMs?: number;
  /** How many other nodes to try after a failure (default: every other node once, at most 4). */
  readonly retries?: number;
  /** Connections per node (default 16). */
  readonly connectionsPerNode?: number;
  /**
   * Key-aware routing (Dynamo's client-driven coordination): fetch the ring from /admin/ring
   * and send each request straight to a node of the key's preference list, saving the hop a
   * non-replica coordinator would forward. Falls back to `urls` when the ring is unknown or
   * its nodes fail. Default true.
   */
  readonly keyAware?: boolean;
  /** How often the ring copy is refreshed, in ms (default 10,000). */
  readonly ringRefreshMs?: number;
  /**
   * Bearer token sent with every request (`Authorization: Bearer <token>`): a client token of
   * the nodes' `--auth-file`, or the admin token. Needed only when the nodes require one.
   */
  readonly token?: string;
  /**
   * PEM CA certificate(s) that the nodes' TLS certificates chain to (https:// URLs signed by a
   * private CA, such as the ring's --tls-ca). Default: the system's CAs.
   */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const utf8 = new TextEncoder();

/** The header a draining or stopping node sets on its answers (the server's http/app.ts). */
const DRAINING_HEADER = 'x-ringkv-draining';
/** How long a node that said it is draining is tried last: about a restart. */
const DRAINING_AVOID_MS = 5_000;

/**
 * A node's base URL as the client uses it: scheme, host and port only. Anything else (a path,
 * a query, credentials, another scheme) is a TypeError naming the URL, not a failure later
 * disguised as an unknown outcome.
 */
function nodeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`RingkvClient: "${raw}" is not a URL (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`RingkvClient: "${raw}" must be an http:// or https:// URL`);
  if (url.pathname.replace(/\/+$/, '') !== '' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError(`RingkvClient: node URL "${raw}" must be only scheme://host:port (no path, query or credentials)`);
  }
  return url.origin;
}

/** Percent-encodes a key for the path (every byte outside the unreserved set). */
export function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(answer: Answer): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** One request as send() makes it. */
interface Request {
  readonly key: string;
  readonly method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  readonly path: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
}

export class RingkvClient {
  private readonly pools = new Map<string, Pool>();
  /** Each pool composed with the interceptor that reports when a request left (sent-tracker.ts). */
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly urls: string[];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly connections: number;
  private readonly ring: RingView | undefined;
  private readonly authHeaders: Record<string, string>;
  private readonly ca: ClientOptions['ca'];
  private next = 0;
  /** Nodes that answered as draining, and until when they are tried last. */
  private readonly draining = new Map<string, number>();

  constructor(options: ClientOptions) {
    if (options.urls.length === 0) throw new TypeError('RingkvClient needs at least one node URL');
    this.urls = options.urls.map(nodeUrl);
    this.connections = options.connectionsPerNode ?? 16;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.retries = Math.min(options.retries ?? Math.max(this.urls.length - 1, 2), 4);
    if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) throw new TypeError('RingkvClient token must be visible ASCII without spaces');
    this.authHeaders = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
    this.ca = options.ca;
    this.ring = options.keyAware === false ? undefined : new RingView((url) => this.pool(url), this.urls, options.ringRefreshMs ?? 10_000, this.authHeaders);
  }

  private pool(url: string): Pool {
    let pool = this.pools.get(url);
    if (pool === undefined) {
      pool = new Pool(url, { connections: this.connections, ...(this.ca === undefined ? {} : { connect: { ca: this.ca as string | Buffer | Array<string | Buffer> } }) });
      this.pools.set(url, pool);
    }
    return pool;
  }

  private dispatcher(url: string): Dispatcher {
    let dispatcher = this.dispatchers.get(url);
    if (dispatcher === undefined) {
      dispatcher = this.pool(url).compose(sentTracker);
      this.dispatchers.set(url, dispatcher);
    }
    return dispatcher;
  }

  /**
   * Nodes to try for `key`, best first: its replicas (key-aware), then the configured nodes.
   * The last attempt of the budget always goes to a configured node, so a ring copy listing
   * unreachable addresses can never use up every attempt.
   */
  private async candidates(key: string): Promise<string[]> {
    const start = this.next++;
    const rotate = (list: string[]) => list.map((_, i) => list[(start + i) % list.length]!);
    const replicas = (await this.ring?.replicasOf(key)) ?? [];
    const urls = rotate(this.urls);
    const first = rotate(replicas).filter((url) => url !== urls[0]).slice(0, this.retries);
    const all = [...new Set([...first, ...urls])];
    // A node that said it is draining goes last: it is about to stop, and a write in flight
    // there when it does would have an unknown outcome.
    const nowMs = Date.now();
    const draining = (url: string) => (this.draining.get(url) ?? 0) > nowMs;
    return [...all.filter((url) => !draining(url)), ...all.filter(draining)];
  }

  /**
   * Sends one request, trying the next node when the node is stopping or overloaded or refused
   * a write it could not attempt (`attempted: false`, nothing written). Reads also
   * move on after any 5xx and any transport error. Writes move on only when no connection could
   * be made (the request surely reached nobody); after a reset, a timeout, a 504 or a quorum
   * failure their outcome is unknown (they may have landed), and repeating them would add a
   * sibling or revive an overwritten value (issue 19.7): the caller gets
   * KV_ERR_OUTCOME_UNKNOWN (or the server's code) and decides, typically by reading first.
   */
  private async send(request: Request): Promise<Answer> {
    const { key, method, path, timeoutMs, signal } = request;
    let lastError: RingkvError | undefined;
    throwIfAborted(signal, `${method} ${key}`);
    // The first ring fetch may take a while: an abort meanwhile ends the call at once.
    const nodes = await abortable(this.candidates(key), signal, `${method} ${key}`);
    for (let attempt = 0; attempt <= this.retries && attempt < nodes.length; attempt++) {
      const url = nodes[attempt]!;
      let sent = false;
      try {
        throwIfAborted(signal, `${method} ${key}`);
        const response = await this.dispatcher(url).request({
          method,
          path,
          headers: { ...this.authHeaders, ...request.headers },
          body: request.body === undefined ? null : request.body,
          headersTimeout: timeoutMs + 1_000,
          bodyTimeout: timeoutMs + 1_000,
          signal: signal ?? null,
          [ON_SENT]: () => (sent = true),
        } as Dispatcher.RequestOptions);
        const answer: Answer = { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
        if (header(answer, DRAINING_HEADER) !== undefined) this.draining.set(url, Date.now() + DRAINING_AVOID_MS);
        if (answer.status < 500) return answer;
        lastError = errorFromResponse(answer.status, parseJson(answer), url, method !== 'GET');
        // A write the node refused before doing anything (stopping, overloaded, or a quorum it
        // could not attempt: `attempted: false`) is safe to send to another node.
        const retryable = method === 'GET' || lastError.code === 'KV_ERR_SHUTTING_DOWN' || lastError.code === 'KV_ERR_OVERLOADED' || lastError.details.attempted === false;
        if (!retryable) throw lastError;
      } catch (error) {
        if (error === lastError || error instanceof RingkvAbortError) throw error;
        if (signal?.aborted) throw this.abortError(request, url, sent);
        this.ring?.suspect();
        if (method !== 'GET' && !neverSent(error)) {
          throw new OutcomeUnknownError(`${method} sent to ${url} got no answer (${(error as Error).message}); it may or may not have been applied`, { url }, { cause: error });
        }
        lastError = new UnreachableError(`no answer from ${url}: ${(error as Error).message}`, {}, { cause: error });
      }
    }
    throw lastError!;
  }

  /**
   * The caller aborted: a read, or a write that never left the client, did not happen; a write
   * already handed to a socket may have landed, and saying "aborted" would invite a blind retry.
   */
  private abortError(request: Request, url: string, sent: boolean): RingkvError {
    const reason = request.signal?.reason;
    if (request.method !== 'GET' && sent) {
      return new OutcomeUnknownError(`${request.method} ${request.key} was aborted by the caller after it was sent to ${url}; it may or may not have been applied`, { url, aborted: true }, { cause: reason });
    }
    return new RingkvAbortError(`${request.method} ${request.key} aborted${request.method === 'GET' ? '' : ' before it was sent'}`, { cause: reason });
  }

  private query(params: Record<string, number | boolean | undefined>): string {
    const parts = Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}`);
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  }

  /** The query parameters every write takes. */
  private writeQuery(options: WriteOptions, timeoutMs: number, ttlMs?: number): string {
    return this.query({ w: options.w, pw: options.pw, sloppy: options.sloppy, timeout_ms: timeoutMs, ttl_ms: ttlMs });
  }

  /**
   * Reads a key at `r` (default a quorum): its siblings and context. One live sibling is also
   * `value`; several are all returned, or merged by `resolve` and written back with the read's
   * context (then the result is a fresh read of what was written).
   */
  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const path = `/kv/${encodeKey(key)}${this.query({ r: options.r, timeout_ms: timeoutMs })}`;
    const answer = await this.send({ key, method: 'GET', path, timeoutMs, signal: options.signal });
    const context = header(answer, CONTEXT_HEADER);
    if (answer.status === 200) {
      const contentType = header(answer, 'content-type') ?? 'application/octet-stream';
      const value = new Uint8Array(answer.body);
      return { found: true, siblings: [{ deleted: false, value, contentType }], value, contentType, ...(context ? { context } : {}) };
    }
    if (answer.status === 404) {
      const body = parseJson(answer) as { error?: { code?: string } } | undefined;
      if (body?.error?.code !== 'KV_ERR_NOT_FOUND') throw errorFromResponse(404, body, path);
      return { found: false, siblings: [], ...(context ? { context } : {}) };
    }
    if (answer.status === 300) return this.siblingsResult(key, answer, options);
    throw errorFromResponse(answer.status, parseJson(answer), path);
  }

  private async siblingsResult(key: string, answer: Answer, options: GetOptions): Promise<GetResult> {
    const body = parseJson(answer) as SiblingsBody | undefined;
    if (body === undefined || typeof body.context !== 'string' || !Array.isArray(body.siblings)) {
      throw new RingkvError('KV_ERR_BAD_RESPONSE', 'a 300 answer without a siblings body', 300);
    }
    const siblings: Sibling[] = body.siblings.map((s) =>
      'deleted' in s ? { deleted: true } : { deleted: false, value: new Uint8Array(Buffer.from(s.value, 'base64')), contentType: s.contentType },
    );
    if (options.resolve === undefined) return { found: true, siblings, context: body.context };
    const resolved = options.resolve(siblings);
    const write = { context: body.context, w: options.w, timeoutMs: options.timeoutMs, signal: options.signal };
    if ('deleted' in resolved) {
      await this.delete(key, write);
      return { found: false, siblings: [] };
    }
    const contentType = resolved.contentType ?? (typeof resolved.value === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
    await this.put(key, resolved.value, { ...write, contentType });
    // Re-read for the context of what was just written, so the caller can keep building on it.
    return this.get(key, { r: options.r, timeoutMs: options.timeoutMs, signal: options.signal });
  }

  /**
   * Writes a value at `w` (default a quorum). With the context of a read it supersedes what that
   * read saw; without one it becomes a sibling of whatever a concurrent writer left. The write
   * carries a request id (`options.requestId`, or a fresh one); after an unknown outcome it is
   * sent again with that id, up to `options.retries` times, and applied once (retried-write.ts).
   */
  async put(key: string, value: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const bytes = typeof value === 'string' ? utf8.encode(value) : value;
    const contentType = options.contentType ?? (typeof value === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
    const headers: Record<string, string> = { 'content-type': contentType, ...requestIdHeader(requestIdOf(options)) };
    if (options.context) headers[CONTEXT_HEADER] = options.context;
    const path = `/kv/${encodeKey(key)}${this.writeQuery(options, timeoutMs, options.ttlMs)}`;
    await retried(`PUT ${key}`, async () => {
      const answer = await this.send({ key, method: 'PUT', path, timeoutMs, signal: options.signal, headers, body: bytes });
      if (answer.status !== 204) throw errorFromResponse(answer.status, parseJson(answer), path, true);
    }, options, Math.random);
  }

  /**
   * Writes a tombstone: with the read's context it deletes what that read saw. Retried with its
   * request id after an unknown outcome, as put() is.
   */
  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = { ...(options.context ? { [CONTEXT_HEADER]: options.context } : {}), ...requestIdHeader(requestIdOf(options)) };
    const path = `/kv/${encodeKey(key)}${this.writeQuery(options, timeoutMs)}`;
    await retried(`DELETE ${key}`, async () => {
      const answer = await this.send({ key, method: 'DELETE', path, timeoutMs, signal: options.signal, headers });
      if (answer.status !== 204) throw errorFromResponse(answer.status, parseJson(answer), path, true);
    }, options, Math.random);
  }

  /**
   * Reads a JSON value (or any codec's): every live sibling decoded; `value` when exactly one
   * is live, or the `resolver`'s merge of several (not written back: update() does that).
   */
  async getJson<T = unknown>(key: string, options: GetJsonOptions<T> = {}): Promise<GetJsonResult<T>> {
    const codec = (options.codec ?? jsonCodec) as Codec<T>;
    const read = await this.get(key, { r: options.r, timeoutMs: options.timeoutMs, signal: options.signal });
    const siblings = decodeSiblings(key, read.siblings, codec);
    const values = liveValues(siblings);
    const context = read.context === undefined ? {} : { context: read.context };
    if (values.length === 0) return { found: false, siblings, ...context };
    if (values.length === 1) return { found: true, siblings, value: values[0]!, ...context };
    return { found: true, siblings, ...(options.resolver ? { value: options.resolver(values) } : {}), ...context };
  }

  /** Writes `value` as JSON (`application/json`), or with `options.codec`. */
  async putJson<T = unknown>(key: string, value: T, options: Omit<PutOptions, 'contentType'> & { codec?: Codec<T> } = {}): Promise<void> {
    const codec = (options.codec ?? jsonCodec) as Codec<T>;
    const { codec: _, ...rest } = options;
    await this.put(key, codec.encode(value), { ...rest, contentType: codec.contentType });
  }

  /**
   * Read-modify-write: reads the key, calls `fn` with its value (undefined when missing; several
   * siblings merged by `options.resolver` first), writes the result back with the read's
   * context. Retries the whole cycle, up to `options.retries` times with jittered backoff, only
   * when a step failed without applying anything. See update.ts and docs/client.md.
   */
  update<T = unknown>(key: string, fn: Updater<T>, options: UpdateOptions<T> = {}): Promise<UpdateResult<T>> {
    return runUpdate({ getJson: (k, o) => this.getJson<T>(k, o), putJson: (k, v, o) => this.putJson<T>(k, v, o) }, key, fn, options, Math.random);
  }

  /**
   * Reads many keys in parallel (at most `options.concurrency` at once, default 8) and answers
   * one entry per key, in order: `{ key, ok: true, result }` or `{ key, ok: false, error }`. A
   * key's failure does not fail the call; only an abort (or bad arguments) rejects it.
   */
  getMany(keys: readonly string[], options: GetManyOptions = {}): Promise<GetManyEntry[]> {
    return getMany(keys, (key, signal) => this.get(key, { ...options, ...(signal ? { signal } : {}) }), options);
  }

  /**
   * Reads a data type (docs/datatypes.md): its type, value and context, or undefined when the
   * key holds none. Siblings never reach the caller: the node joins them.
   */
  async dtGet(key: string, options: DataTypeReadOptions = {}): Promise<DataTypeValue | undefined> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const path = `/dt/${encodeKey(key)}${this.query({ r: options.r, timeout_ms: timeoutMs })}`;
    const answer = await this.send({ key, method: 'GET', path, timeoutMs, signal: options.signal });
    if (answer.status === 200) return dataTypeValue(parseJson(answer));
    const body = parseJson(answer) as { error?: { code?: string } } | undefined;
    if (answer.status === 404 && body?.error?.code === 'KV_ERR_NOT_FOUND') return undefined;
    throw errorFromResponse(answer.status, body, path);
  }

  /**
   * Applies one data type operation (`{"increment": 5}`, `{"add": ["a"]}`, a map's
   * `{"update": {...}}`: docs/datatypes.md) and answers the state written. Not retried on
   * another node once sent: an OutcomeUnknownError (or `mayHaveApplied`) means it may have
   * been applied, and a counter increment is not idempotent.
   */
  async dtUpdate(key: string, op: object, options: DataTypeWriteOptions = {}): Promise<DataTypeValue> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const body = utf8.encode(JSON.stringify(checkOperation(op)));
    const path = `/dt/${encodeKey(key)}${this.query({ r: options.r, w: options.w, pw: options.pw, sloppy: options.sloppy, timeout_ms: timeoutMs })}`;
    const answer = await this.send({ key, method: 'POST', path, timeoutMs, signal: options.signal, headers: { 'content-type': 'application/json' }, body });
    if (answer.status !== 200) throw errorFromResponse(answer.status, parseJson(answer), path, true);
    return dataTypeValue(parseJson(answer));
  }

  /** Adds `by` (negative: subtracts) to the counter at `key`. */
  counterIncrement(key: string, by = 1, options: DataTypeWriteOptions = {}): Promise<DataTypeValue> {
    return this.dtUpdate(key, by < 0 ? { decrement: -by } : { increment: by }, options);
  }

  /** Adds elements to the set at `key` (add wins over a concurrent removal). */
  setAdd(key: string, elements: readonly string[], options: DataTypeWriteOptions = {}): Promise<DataTypeValue> {
    return this.dtUpdate(key, { add: elements }, options);
  }

  /** Removes elements from the set at `key`: those `options.context` saw (default: the node's read). */
  setRemove(key: string, elements: readonly string[], options: DataTypeRemoveOptions = {}): Promise<DataTypeValue> {
    const { context, ...rest } = options;
    return this.dtUpdate(key, { remove: elements, ...(context === undefined ? {} : { context }) }, rest);
  }

  /** Updates and removes fields of the map at `key`. */
  mapUpdate(key: string, op: MapOperation, options: DataTypeWriteOptions = {}): Promise<DataTypeValue> {
    return this.dtUpdate(key, { update: op.update ?? {}, ...(op.remove === undefined ? {} : { remove: op.remove }), ...(op.context === undefined ? {} : { context: op.context }) }, options);
  }

  /**
   * Compare-and-set (docs/cas.md): writes `value` only if the key is at `ifVersion` or holds
   * nothing (`ifAbsent`). A failed condition is a result ({ applied: false, version }), not an
   * error. After an unknown outcome the same request id is sent again (bounded, jittered), so
   * the write applies at most once.
   */
  cas(key: string, value: Uint8Array | string, options: CasOptions): Promise<CasResult> {
    const bytes = typeof value === 'string' ? utf8.encode(value) : value;
    const contentType = options.contentType ?? (typeof value === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
    return runCas(this.casTransport(), key, `/kv/${encodeKey(key)}`, bytes, contentType, options, Math.random);
  }

  /** A linearizable read (one Paxos round): the value and the version cas() compares with. */
  getConsistent(key: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ConsistentRead> {
    return runGetConsistent(this.casTransport(), key, `/kv/${encodeKey(key)}`, options);
  }

  private casTransport(): CasTransport {
    return {
      send: (request) => this.send(request),
      timeoutMs: this.timeoutMs,
      error: (status, body, path, write) => errorFromResponse(status, parseJson({ status, headers: {}, body }), path, write),
    };
  }

  /**
   * Watches a key (docs/watch.md): an async iterator of its new states, each with its context,
   * one long poll at a time, resuming on another node from the last context after a failure.
   * Ends when `options.signal` fires. See watch.ts.
   */
  watch(key: string, options: WatchOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    const poll = async (context: string, timeoutMs: number, signal: AbortSignal | undefined) => {
      // Contexts are base64url: safe in a query as they are.
      const path = `/kv/${encodeKey(key)}${this.query({ r: options.r, timeout_ms: timeoutMs })}&changed_since=${context}`;
      const answer = await this.send({ key, method: 'GET', path, timeoutMs, signal });
      return { path, answer: { status: answer.status, context: header(answer, CONTEXT_HEADER), contentType: header(answer, 'content-type'), body: answer.body } };
    };
    return watchKey(poll, options, Math.random);
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.ring?.close();
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }

  /**
   * One page of keys in byte order (docs/listing.md): those after `options.after` starting with
   * `options.prefix`, at most `options.limit`, and the `after` of the next page (null at the end).
   * A page may hold fewer keys than the limit before the end: keep going while `next` is not null.
   */
  async list(options: ListOptions = {}): Promise<KeyListPage> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const path = listPath(options, timeoutMs);
    const answer = await this.send({ key: options.prefix ?? '', method: 'GET', path, timeoutMs, signal: options.signal });
    if (answer.status !== 200) throw errorFromResponse(answer.status, parseJson(answer), path);
    return listPage(parseJson(answer));
  }

  /** Every page of a listing, from `options.after` until the end: `for await (const page of client.listAll({ prefix }))`. */
  listAll(options: ListOptions & { readonly pagesMax?: number } = {}): AsyncGenerator<KeyListPage> {
    return pagesOf((page) => this.list(page), options);
  }
}
