/**
 * The HTTP edge's one parser (issue 14.3): every option of every route is read and validated
 * here, and the routes act on the typed result. Client routes: the key in the raw path, r, w,
 * pw, sloppy, timeout_ms, ttl_ms, Content-Type, the X-Ringkv-Context header and the value limit
 * of a declared body. Admin routes: the member, action and peer query options. Internal
 * routes: the JSON bodies of /internal/members and /internal/faults. Every failure is a coded
 * 400 (413 for a body over the limit), raised before any state is touched or a body is read.
 *
 * The client routes run on every request, so the parsers read Node's already parsed headers
 * (`headerOf`) and the URL string as it arrived, allocate nothing a route did not allocate
 * before, and hand on objects the service takes as they are (a ReadRequest is the read's
 * options; a write's options are built once, in their final shape).
 *
 * Model: riak_kv_wm_object's `malformed_request/2`, which decodes every option of a request
 * into one state before any work; the contract itself is SPEC.md "HTTP API" and docs/api.md.
 */
import type { IncomingMessage } from 'node:http';
import { DEFAULT_CONTENT_TYPE, CONTEXT_HEADER, TTL_MS_MAX, isNodeId, isZoneName, REQUEST_ID_HEADER, REQUEST_ID_BYTES_MAX, REQUEST_ID_PATTERN } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { VersionVector } from '../core/clock.js';
import { CONTENT_TYPE_BYTES_MAX } from '../core/object-codec.js';
import type { ReadOptions, WriteOptions } from '../replication/kv-service.js';
import type { StaticPeer } from '../membership/static-membership.js';

// ---------------------------------------------------------------------------------------------
// Reading a request: Hono's Context has this shape; tests pass a plain object.

/** What the parsers read of a request. `env.incoming` is Node's IncomingMessage behind the Node adapter. */
export interface EdgeRequest {
  readonly env: unknown;
  readonly req: {
    readonly url: string;
    /** The first value of a query parameter, percent-decoded ('' for `?name` without `=`). */
    query(name: string): string | undefined;
    header(name: string): string | undefined;
  };
}

/** The Node IncomingMessage behind a request, when the Node server adapter passed it (`c.env.incoming`). */
export function incomingOf(c: { env: unknown }): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * A request header (`name` in lower case), read from Node's already parsed headers when the
 * request came through the Node adapter: asking the web Request builds a whole Headers object
 * per request (about 1 % of a node's CPU under load). Repeated headers join with ", " either way.
 */
export function headerOf(c: { env: unknown; req: { header(name: string): string | undefined } }, name: string): string | undefined {
  const incoming = incomingOf(c);
  if (incoming === undefined) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** True when the request says a body follows (Content-Length or Transfer-Encoding), read or not. */
export function declaresBody(c: EdgeRequest): boolean {
  return headerOf(c, 'content-length') !== undefined || headerOf(c, 'transfer-encoding') !== undefined;
}

// ---------------------------------------------------------------------------------------------
// The key and the value limit.

/**
 * The key from the raw request URL after `prefix` (for example `/kv/`). Parsed from the
 * undecoded path, so an encoded `/` (%2F) stays part of the key and malformed escapes are
 * caught here instead of by the router.
 */
export function parseKey(url: string, prefix: string, keyBytesMax: number): string {
  const pathStart = url.indexOf('/', url.indexOf('://') + 3);
  const queryStart = url.indexOf('?', pathStart);
  const path = url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
  const encoded = path.slice(prefix.length);
  if (encoded.length === 0) throw new KvError('KV_ERR_BAD_KEY', 'the key is empty', { reason: 'empty' });
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw new KvError('KV_ERR_BAD_KEY', 'the key is not valid percent-encoded UTF-8', { reason: 'encoding' });
  }
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > keyBytesMax) {
    throw new KvError('KV_ERR_BAD_KEY', `the key is ${bytes} bytes; the limit is ${keyBytesMax}`, {
      reason: 'too-long',
      bytes,
      limit: keyBytesMax,
    });
  }
  return key;
}

/** The 413 of a body over `limit` bytes (`bytes` when its Content-Length said so). */
export function valueTooLarge(limit: number, bytes?: number): KvError {
  return new KvError('KV_ERR_VALUE_TOO_LARGE', `the value exceeds the limit of ${limit} bytes`, {
    limit,
    ...(bytes === undefined ? {} : { bytes }),
  });
}

/**
 * The 413 for a body whose Content-Length is over `limit`, refused before a byte of it is read;
 * undefined when it may be read. A length that is not a number is left to the streaming count
 * (Node's parser refuses most of them first).
 */
export function declaredTooLarge(declared: string | null | undefined, limit: number): KvError | undefined {
  if (declared === undefined || declared === null) return undefined;
  const bytes = Number(declared);
  return Number.isFinite(bytes) && bytes > limit ? valueTooLarge(limit, bytes) : undefined;
}

// ---------------------------------------------------------------------------------------------
// One client option each: raw query value or header in, value or coded error out.

/** Parses a strictly decimal integer parameter, or returns `fallback` when it is absent. */
function intParam(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined) return fallback;
  return /^[0-9]{1,9}$/.test(raw) ? Number(raw) : undefined;
}

/** `r` or `w`: 1 ≤ value ≤ n, default a majority of n. */
export function parseQuorum(raw: string | undefined, name: 'r' | 'w', n: number): number {
  const value = intParam(raw, Math.floor(n / 2) + 1);
  if (value === undefined || value < 1 || value > n) {
    throw new KvError('KV_ERR_BAD_QUORUM', `${name} must be an integer from 1 to N=${n} (got ${JSON.stringify(raw)})`, {
      parameter: name,
      n,
    });
  }
  return value;
}

/** `pw`, the primaries that must acknowledge (Riak's PW): 0 ≤ value ≤ w, default 0. */
export function parsePw(raw: string | undefined, w: number, n: number): number {
  if (raw === undefined) return 0;
  if (/^\d{1,2}$/.test(raw) && Number(raw) <= w) return Number(raw);
  throw new KvError('KV_ERR_BAD_QUORUM', `pw must be an integer from 0 to w=${w} (got ${JSON.stringify(raw)})`, { parameter: 'pw', n });
}

/** `sloppy`: true or false; undefined (absent) leaves it to the coordinating node's config. */
export function parseSloppy(raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new KvError('KV_ERR_BAD_REQUEST', `sloppy must be true or false (got ${JSON.stringify(raw)})`);
}

/** `timeout_ms`: 1 ≤ value ≤ max, default `fallback`. */
export function parseTimeout(raw: string | undefined, fallback: number, max: number): number {
  const value = intParam(raw, fallback);
  if (value === undefined || value < 1 || value > max) {
    throw new KvError('KV_ERR_BAD_TIMEOUT', `timeout_ms must be an integer from 1 to ${max} (got ${JSON.stringify(raw)})`, {
      max,
    });
  }
  return value;
}

/** `ttl_ms`: whole milliseconds, 1 to TTL_MS_MAX (ten years); undefined when absent. */
export function parseTtl(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,12}$/.test(raw) || Number(raw) < 1 || Number(raw) > TTL_MS_MAX) {
    throw new KvError('KV_ERR_BAD_REQUEST', `ttl_ms must be an integer from 1 to ${TTL_MS_MAX} (got ${JSON.stringify(raw)})`, { parameter: 'ttl_ms' });
  }
  return Number(raw);
}

/** The Content-Type a value is stored with: the header, or DEFAULT_CONTENT_TYPE without one. */
export function parseContentType(raw: string | undefined): string {
  const value = raw ?? DEFAULT_CONTENT_TYPE;
  // Bytes, not characters: the stored form bounds the UTF-8 length (regression: a 120-character
  // non-ASCII type once passed a character check and made the key unreadable).
  if (Buffer.byteLength(value) > CONTENT_TYPE_BYTES_MAX) {
    throw new KvError('KV_ERR_BAD_REQUEST', `Content-Type is longer than ${CONTENT_TYPE_BYTES_MAX} bytes`);
  }
  return value;
}

/** The context of a write without one (shared: nothing changes a VersionVector in place). */
const NO_CONTEXT: VersionVector = Object.freeze([]);

/** The X-Ringkv-Context token decoded (absent or empty: no context); `decode` checks its tag and key. */
export function parseContext(raw: string | undefined, key: string, decode: (token: string, key: string) => VersionVector): VersionVector {
  return raw === undefined || raw === '' ? NO_CONTEXT : decode(raw, key);
}

// ---------------------------------------------------------------------------------------------
// Client requests: GET, PUT and DELETE of /kv/{key}, each option in the order checked today.

/** What client requests are checked against. */
export interface ClientLimits {
  readonly n: number;
  readonly keyBytesMax: number;
  readonly requestTimeoutMsDefault: number;
  readonly requestTimeoutMsMax: number;
  /** Decodes a context token bound to `key` (core/context-codec.ts); throws KV_ERR_BAD_CONTEXT. */
  readonly decodeContext: (token: string, key: string) => VersionVector;
}

/** A parsed GET: the key, and the read's options in the same object (one allocation per read). */
export interface ReadRequest extends ReadOptions {
  readonly key: string;
}

/** A parsed DELETE (and the part of a PUT before its body). */
export interface WriteRequest {
  readonly key: string;
  readonly options: WriteOptions;
  readonly context: VersionVector;
  /** X-Ringkv-Request-Id (docs/idempotency.md); absent when the client sent none. */
  readonly requestId?: string;
}

/** A parsed PUT, before its body is read. */
export interface PutRequest extends WriteRequest {
  readonly contentType: string;
  /** Absent: the value never expires. */
  readonly ttlMs: number | undefined;
}

const KV_PREFIX = '/kv/';

function timeoutOf(c: EdgeRequest, limits: ClientLimits): number {
  return parseTimeout(c.req.query('timeout_ms'), limits.requestTimeoutMsDefault, limits.requestTimeoutMsMax);
}

/** GET /kv/{key}: key, r, timeout_ms. */
export function parseRead(c: EdgeRequest, limits: ClientLimits): ReadRequest {
  const key = parseKey(c.req.url, KV_PREFIX, limits.keyBytesMax);
  const r = parseQuorum(c.req.query('r'), 'r', limits.n);
  return { key, r, timeoutMs: timeoutOf(c, limits) };
}

/** w, pw, sloppy and timeout_ms of a write, in the one shape a forward carries (kv-service.ts). */
export function parseWriteOptions(c: EdgeRequest, limits: ClientLimits): WriteOptions {
  const w = parseQuorum(c.req.query('w'), 'w', limits.n);
  const pw = parsePw(c.req.query('pw'), w, limits.n);
  const sloppy = parseSloppy(c.req.query('sloppy'));
  return { w, pw, timeoutMs: timeoutOf(c, limits), sloppy };
}

/** DELETE /kv/{key}: key, the write options, the context. */
export function parseDelete(c: EdgeRequest, limits: ClientLimits): WriteRequest {
  const key = parseKey(c.req.url, KV_PREFIX, limits.keyBytesMax);
  const options = parseWriteOptions(c, limits);
  return { key, options, context: parseContext(headerOf(c, CONTEXT_HEADER), key, limits.decodeContext), ...writeRequestId(c) };
}

/** PUT /kv/{key}: key, the write options, the context, Content-Type and ttl_ms; the body is read after. */
export function parsePut(c: EdgeRequest, limits: ClientLimits): PutRequest {
  const key = parseKey(c.req.url, KV_PREFIX, limits.keyBytesMax);
  const options = parseWriteOptions(c, limits);
  const context = parseContext(headerOf(c, CONTEXT_HEADER), key, limits.decodeContext);
  const contentType = parseContentType(headerOf(c, 'content-type'));
  return { key, options, context, contentType, ttlMs: parseTtl(c.req.query('ttl_ms')), ...writeRequestId(c) };
}

// ---------------------------------------------------------------------------------------------
// Admin and dashboard query options, checked against this node's view of the members.

/** The part of the membership view the admin options are checked against. */
export interface MemberLookup {
  readonly selfId: string;
  member(id: string): { readonly status: string } | undefined;
}

/** POST /admin/remove?id=: a member other than this node, and dead (a live one leaves). */
export function parseRemoveTarget(id: string | undefined, members: MemberLookup): string {
  const member = id === undefined ? undefined : members.member(id);
  if (id === undefined || member === undefined) throw new KvError('KV_ERR_BAD_REQUEST', `no member ${id ?? '(give ?id=)'}`, { id: id ?? null });
  if (id === members.selfId) throw new KvError('KV_ERR_BAD_REQUEST', 'a node cannot remove itself: use POST /admin/leave', { id });
  if (member.status !== 'dead') throw new KvError('KV_ERR_BAD_REQUEST', `member ${id} is ${member.status}, not dead: only a dead member can be removed (a live one leaves)`, { id, status: member.status });
  return id;
}

/** POST /admin/transfers?action=: pause or resume. */
export function parseTransferAction(action: string | undefined): 'pause' | 'resume' {
  if (action !== 'pause' && action !== 'resume') throw new KvError('KV_ERR_BAD_REQUEST', 'action must be pause or resume', { action: action ?? null });
  return action;
}

/** POST /admin/anti-entropy?peer=: a known member, or undefined for every partner. */
export function parseExchangePeer(peer: string | undefined, members: MemberLookup): string | undefined {
  if (peer !== undefined && members.member(peer) === undefined) throw new KvError('KV_ERR_BAD_REQUEST', `no member ${peer}`, { peer });
  return peer;
}

/** GET /admin/dashboard/nodes?node=: a known member, or undefined for every member. */
export function parseDashboardNode(node: string | undefined, members: MemberLookup): string | undefined {
  // A stranger's id is echoed cut to 200 characters: the answer stays small.
  if (node !== undefined && members.member(node) === undefined) throw new KvError('KV_ERR_BAD_REQUEST', `no member ${JSON.stringify(node.slice(0, 200))}`, { node: node.slice(0, 200) });
  return node;
}

// ---------------------------------------------------------------------------------------------
// Internal request bodies (already authenticated: internal-routes.ts), JSON and bounded.

/** Members one /internal/members body may list, and ids one /internal/faults block may name. */
export const INTERNAL_LIST_MAX = 1024;
/** The longest store delay /internal/faults may set. */
export const STORE_DELAY_MS_MAX = 60_000;

function jsonObject(body: Uint8Array): Record<string, unknown> | undefined {
  const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

function isStaticPeer(m: { id?: unknown; address?: unknown; zone?: unknown } | null | undefined): boolean {
  return (
    typeof m?.id === 'string' &&
    isNodeId(m.id) &&
    typeof m?.address === 'string' &&
    /^https?:\/\/[^\s/@]+$/.test(m.address) &&
    (m.zone === undefined || m.zone === null || m.zone === '' || isZoneName(m.zone))
  );
}

/** POST /internal/members: `{"members": [{id, address: "http://host:port", zone?}]}`. */
export function parseMembers(body: Uint8Array): StaticPeer[] {
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = jsonObject(body);
  } catch {
    throw new KvError('KV_ERR_BAD_REQUEST', 'members must be JSON');
  }
  if (parsed === undefined) throw new KvError('KV_ERR_BAD_REQUEST', 'members must be a JSON object {"members": [...]}');
  const list = parsed.members;
  if (!Array.isArray(list) || list.length > INTERNAL_LIST_MAX || !list.every(isStaticPeer)) {
    throw new KvError('KV_ERR_BAD_REQUEST', 'members must be [{id, address: "http://host:port", zone?: NAME}]');
  }
  return (list as Array<StaticPeer & { zone?: string | null }>).map(({ id, address, zone }) => ({ id, address, ...(zone ? { zone } : {}) }));
}

/** A fault plan: members to cut off, and a store delay; at least one of the two. */
export interface FaultPlanRequest {
  readonly block?: string[];
  readonly storeDelayMs?: number;
}

/** POST /internal/faults: `{"block": [member ids], "storeDelayMs": 0..60000}`, either or both. */
export function parseFaultPlan(body: Uint8Array): FaultPlanRequest {
  let plan: Record<string, unknown> | undefined;
  try {
    plan = jsonObject(body);
  } catch {
    plan = undefined;
  }
  const { block, storeDelayMs } = plan ?? {};
  const blockOk = block === undefined || (Array.isArray(block) && block.length <= INTERNAL_LIST_MAX && block.every((id) => isNodeId(id)));
  const delayOk = storeDelayMs === undefined || (Number.isInteger(storeDelayMs) && (storeDelayMs as number) >= 0 && (storeDelayMs as number) <= STORE_DELAY_MS_MAX);
  if (plan === undefined || (block === undefined && storeDelayMs === undefined) || !blockOk || !delayOk) {
    throw new KvError('KV_ERR_BAD_REQUEST', 'faults must be {"block": [member ids], "storeDelayMs": 0..60000}, either or both');
  }
  return { ...(block === undefined ? {} : { block: block as string[] }), ...(storeDelayMs === undefined ? {} : { storeDelayMs: storeDelayMs as number }) };
}

// ---------------------------------------------------------------------------------------------
// Compare-and-set on /kv/{key} (docs/cas.md): if_version, if_absent, consistent, the request id.

/** A parsed CAS request: a linearizable read, or a conditional set (`value` read after, from the body). */
export interface CasRequest {
  readonly key: string;
  readonly timeoutMs: number;
  /** `read`: GET ?consistent=1. `set`: PUT (a value) or DELETE (absent) with a condition. */
  readonly kind: 'read' | 'set';
  readonly condition: { readonly kind: 'always' } | { readonly kind: 'absent' } | { readonly kind: 'version'; readonly version: number };
  /** The client's id for the write (REQUEST_ID_HEADER); undefined: the node makes one. */
  readonly requestId: string | undefined;
  readonly contentType: string;
}

const CAS_OPTIONS = ['if_version', 'if_absent', 'consistent'] as const;
/** Options of causal requests that mean nothing to a Paxos round: refused rather than ignored. */
const CAUSAL_ONLY_OPTIONS = ['r', 'w', 'pw', 'sloppy', 'ttl_ms'] as const;

/**
 * GET, PUT or DELETE of /kv/{key} with a CAS option, or undefined when it has none (an
 * ordinary causal request). `if_version=V` (0 ≤ V, integer) and `if_absent=1` make a PUT or
 * DELETE conditional; `consistent=1` makes a GET a linearizable read and a PUT or DELETE an
 * unconditional linearizable write. Quorum, sloppy, TTL and context options are refused with
 * them: a round always uses a majority of the preference list.
 */
export function parseCas(c: EdgeRequest & { req: { method: string } }, limits: ClientLimits): CasRequest | undefined {
  // Most requests have no query string at all: they pay one string search here, nothing more.
  if (!c.req.url.includes('?')) return undefined;
  const raw = CAS_OPTIONS.map((name) => c.req.query(name));
  if (raw.every((value) => value === undefined)) return undefined;
  const key = parseKey(c.req.url, KV_PREFIX, limits.keyBytesMax);
  const [ifVersion, ifAbsent, consistent] = raw;
  for (const [name, value] of [['if_absent', ifAbsent], ['consistent', consistent]] as const) {
    if (value !== undefined && value !== '1') throw new KvError('KV_ERR_BAD_REQUEST', `${name} must be 1 (got ${JSON.stringify(value)})`, { parameter: name });
  }
  if (raw.filter((value) => value !== undefined).length > 1) throw new KvError('KV_ERR_BAD_REQUEST', 'give one of if_version, if_absent and consistent');
  for (const name of CAUSAL_ONLY_OPTIONS) {
    if (c.req.query(name) !== undefined) throw new KvError('KV_ERR_BAD_REQUEST', `${name} does not apply to compare-and-set (a round uses a majority of the preference list)`, { parameter: name });
  }
  const context = headerOf(c, CONTEXT_HEADER);
  if (context !== undefined && context !== '') throw new KvError('KV_ERR_BAD_REQUEST', `${CONTEXT_HEADER} does not apply to compare-and-set; use if_version`);
  const timeoutMs = timeoutOf(c, limits);
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD') {
    if (consistent === undefined) throw new KvError('KV_ERR_BAD_REQUEST', 'a read takes consistent=1; if_version and if_absent are for PUT and DELETE');
    return { key, timeoutMs, kind: 'read', condition: { kind: 'always' }, requestId: undefined, contentType: '' };
  }
  let condition: CasRequest['condition'] = { kind: 'always' };
  if (ifAbsent !== undefined) condition = { kind: 'absent' };
  if (ifVersion !== undefined) {
    if (!/^\d{1,16}$/.test(ifVersion) || !Number.isSafeInteger(Number(ifVersion))) {
      throw new KvError('KV_ERR_BAD_REQUEST', `if_version must be an integer from 0 to ${Number.MAX_SAFE_INTEGER} (got ${JSON.stringify(ifVersion)})`, { parameter: 'if_version' });
    }
    condition = { kind: 'version', version: Number(ifVersion) };
  }
  const contentType = method === 'PUT' ? parseContentType(headerOf(c, 'content-type')) : '';
  return { key, timeoutMs, kind: 'set', condition, requestId: parseRequestId(headerOf(c, REQUEST_ID_HEADER)), contentType };
}

/** The X-Ringkv-Request-Id header: absent, or 1 to 128 characters of A-Z a-z 0-9 . _ : - */
export function parseRequestId(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!REQUEST_ID_PATTERN.test(raw)) {
    throw new KvError('KV_ERR_BAD_REQUEST', `${REQUEST_ID_HEADER} must be 1 to ${REQUEST_ID_BYTES_MAX} characters of A-Z a-z 0-9 . _ : -`, { parameter: REQUEST_ID_HEADER, limit: REQUEST_ID_BYTES_MAX });
  }
  return raw;
}

/** A causal PUT's or DELETE's X-Ringkv-Request-Id, checked as a CAS write's (docs/idempotency.md); {} when absent. */
export function writeRequestId(c: EdgeRequest): { requestId?: string } {
  const requestId = parseRequestId(headerOf(c, REQUEST_ID_HEADER));
  return requestId === undefined ? {} : { requestId };
}
