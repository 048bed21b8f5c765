// The HTTP edge's parser, table-driven: for each option, valid values, boundaries, malformed,
// oversize, repeated, empty and wrong-type input, each row naming the value it gives or the
// coded error (code, message, details) it raises. Requests are read through Hono's own
// HonoRequest (what `c.req` is), and header rows also through a Node-style `env.incoming`,
// the path the node's server takes.
import t, { type Test } from 'tap';
import { HonoRequest } from 'hono/request';
import { CONTEXT_HEADER, DEFAULT_CONTENT_TYPE, TTL_MS_MAX, type ErrorCode } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { VersionVector } from '../core/clock.js';
import {
  declaredTooLarge,
  declaresBody,
  parseContentType,
  parseDashboardNode,
  parseDelete,
  parseExchangePeer,
  parseFaultPlan,
  parseKey,
  parseMembers,
  parsePut,
  parseQuorum,
  parseRead,
  parseRemoveTarget,
  parseTimeout,
  parseTransferAction,
  parseTtl,
  parseWriteOptions,
  type ClientLimits,
  type EdgeRequest,
  type MemberLookup,
} from './parse.js';

/** A coded error a row expects: code, and the exact message and details where they are given. */
interface Expected {
  readonly code: ErrorCode;
  readonly message?: string;
  readonly details?: Record<string, unknown>;
}

type Row<In, Out> = { readonly name: string; readonly input: In } & ({ readonly want: Out } | { readonly error: Expected });

function check<In, Out>(t: Test, rows: ReadonlyArray<Row<In, Out>>, parse: (input: In) => Out): void {
  for (const row of rows) {
    let got: Out;
    try {
      got = parse(row.input);
    } catch (error) {
      if (!('error' in row)) throw error;
      t.ok(error instanceof KvError, `${row.name}: a coded error`);
      const coded = error as KvError;
      t.equal(coded.code, row.error.code, `${row.name}: ${row.error.code}`);
      t.equal(coded.status, row.error.code === 'KV_ERR_VALUE_TOO_LARGE' ? 413 : 400, `${row.name}: status`);
      if (row.error.message !== undefined) t.equal(coded.message, row.error.message, `${row.name}: message`);
      if (row.error.details !== undefined) t.strictSame(coded.details, row.error.details, `${row.name}: details`);
      continue;
    }
    if ('error' in row) t.fail(`${row.name}: expected ${row.error.code}, got ${JSON.stringify(got)}`);
    else t.strictSame(got, row.want, row.name);
  }
}

/** A request as the routes see it: through the web Request, or (node) Node's parsed headers. */
function edge(path: string, headers: Record<string, string | string[]> = {}, node = false): EdgeRequest {
  const web = new Headers();
  for (const [name, value] of Object.entries(headers)) for (const one of [value].flat()) web.append(name, one);
  const req = new HonoRequest(new Request(`http://node.test${path}`, { headers: web }));
  return { env: node ? { incoming: { headers } } : undefined, req };
}

const N = 3;
const LIMITS: ClientLimits = {
  n: N,
  keyBytesMax: 8,
  requestTimeoutMsDefault: 1_000,
  requestTimeoutMsMax: 60_000,
  // A stand-in for the signed codec: 'good' decodes to a clock naming the key it was bound to.
  decodeContext: (token: string, key: string): VersionVector => {
    if (token !== 'good') throw new KvError('KV_ERR_BAD_CONTEXT', `not a context: ${token}`);
    return [{ id: key, counter: 1 }];
  },
};

t.test('the key: raw path after the prefix, percent-decoded once, bounded in UTF-8 bytes', async (t) => {
  const tooLong = (bytes: number) => ({ code: 'KV_ERR_BAD_KEY' as const, message: `the key is ${bytes} bytes; the limit is 8`, details: { reason: 'too-long', bytes, limit: 8 } });
  check<string, string>(t, [
    { name: 'plain', input: '/kv/a', want: 'a' },
    { name: 'the query is not part of it', input: '/kv/a?r=1&w=2', want: 'a' },
    { name: 'an encoded slash stays in the key', input: '/kv/a%2Fb', want: 'a/b' },
    { name: 'a raw slash too', input: '/kv/a/b', want: 'a/b' },
    { name: 'decoded once only', input: '/kv/%2541', want: '%41' },
    { name: 'a plus is not a space', input: '/kv/a+b', want: 'a+b' },
    { name: 'exactly the limit', input: '/kv/12345678', want: '12345678' },
    { name: 'multi-byte at the limit (4 × 2 bytes)', input: '/kv/%C3%A9%C3%A9%C3%A9%C3%A9', want: 'éééé' },
    { name: 'one byte over', input: '/kv/123456789', error: tooLong(9) },
    { name: 'over in bytes, not characters (5 × 2 bytes)', input: '/kv/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9', error: tooLong(10) },
    { name: 'empty', input: '/kv/', error: { code: 'KV_ERR_BAD_KEY', message: 'the key is empty', details: { reason: 'empty' } } },
    { name: 'empty before a query', input: '/kv/?r=1', error: { code: 'KV_ERR_BAD_KEY', details: { reason: 'empty' } } },
    { name: 'a cut escape', input: '/kv/%E2%82', error: { code: 'KV_ERR_BAD_KEY', message: 'the key is not valid percent-encoded UTF-8', details: { reason: 'encoding' } } },
    { name: 'not hex', input: '/kv/%zz', error: { code: 'KV_ERR_BAD_KEY', details: { reason: 'encoding' } } },
    { name: 'not UTF-8', input: '/kv/%FF', error: { code: 'KV_ERR_BAD_KEY', details: { reason: 'encoding' } } },
  ], (path) => parseKey(`http://node.test${path}`, '/kv/', LIMITS.keyBytesMax));
  check<string, string>(t, [
    { name: 'another prefix', input: '/admin/preflist/k%20y', want: 'k y' },
  ], (path) => parseKey(`http://node.test${path}`, '/admin/preflist/', LIMITS.keyBytesMax));
});

const quorumError = (name: string, raw: string | undefined) => ({
  code: 'KV_ERR_BAD_QUORUM' as const,
  message: `${name} must be an integer from 1 to N=3 (got ${JSON.stringify(raw)})`,
  details: { parameter: name, n: N },
});

t.test('r: 1 to N, default a majority; first of repeated values; decimal digits only', async (t) => {
  check<string, number>(t, [
    { name: 'absent: a majority of 3', input: '', want: 2 },
    { name: 'lowest', input: '?r=1', want: 1 },
    { name: 'N', input: '?r=3', want: 3 },
    { name: 'leading zeros', input: '?r=0003', want: 3 },
    { name: 'percent-encoded digit', input: '?r=%31', want: 1 },
    { name: 'repeated: the first wins', input: '?r=1&r=9', want: 1 },
    { name: 'among other options', input: '?timeout_ms=5&r=1', want: 1 },
    { name: 'zero', input: '?r=0', error: quorumError('r', '0') },
    { name: 'N + 1', input: '?r=4', error: quorumError('r', '4') },
    { name: 'repeated: a bad first is refused', input: '?r=9&r=1', error: quorumError('r', '9') },
    { name: 'empty', input: '?r=', error: quorumError('r', '') },
    { name: 'no value', input: '?r', error: quorumError('r', '') },
    { name: 'negative', input: '?r=-1', error: quorumError('r', '-1') },
    { name: 'plus sign (a space once decoded)', input: '?r=+1', error: quorumError('r', ' 1') },
    { name: 'fraction', input: '?r=1.0', error: quorumError('r', '1.0') },
    { name: 'exponent', input: '?r=1e0', error: quorumError('r', '1e0') },
    { name: 'wrong type', input: '?r=all', error: quorumError('r', 'all') },
    { name: 'ten digits', input: '?r=0000000001', error: quorumError('r', '0000000001') },
  ], (query) => parseRead(edge(`/kv/k${query}`), LIMITS).r);
  check<[string | undefined, number], number>(t, [
    { name: 'N = 1: default 1', input: [undefined, 1], want: 1 },
    { name: 'N = 5: default 3', input: [undefined, 5], want: 3 },
    { name: 'N = 5: 5', input: ['5', 5], want: 5 },
  ], ([raw, n]) => parseQuorum(raw, 'r', n));
});

t.test('w, pw and sloppy of a write', async (t) => {
  const pwError = (raw: string, w: number) => ({ code: 'KV_ERR_BAD_QUORUM' as const, message: `pw must be an integer from 0 to w=${w} (got ${JSON.stringify(raw)})`, details: { parameter: 'pw', n: N } });
  const sloppyError = (raw: string) => ({ code: 'KV_ERR_BAD_REQUEST' as const, message: `sloppy must be true or false (got ${JSON.stringify(raw)})`, details: {} });
  const options = (w: number, pw: number, sloppy?: boolean, timeoutMs = 1_000) => ({ w, pw, timeoutMs, sloppy });
  check(t, [
    { name: 'absent: w a majority, pw 0, sloppy left to the node', input: '', want: options(2, 0) },
    { name: 'w 1', input: '?w=1', want: options(1, 0) },
    { name: 'w N', input: '?w=3', want: options(3, 0) },
    { name: 'w 0', input: '?w=0', error: quorumError('w', '0') },
    { name: 'w N + 1', input: '?w=4', error: quorumError('w', '4') },
    { name: 'w empty', input: '?w=', error: quorumError('w', '') },
    { name: 'w wrong type', input: '?w=quorum', error: quorumError('w', 'quorum') },
    { name: 'w repeated: the first wins', input: '?w=3&w=x', want: options(3, 0) },
    { name: 'pw 0', input: '?pw=0', want: options(2, 0) },
    { name: 'pw = w (default w)', input: '?pw=2', want: options(2, 2) },
    { name: 'pw = w = N', input: '?w=3&pw=3', want: options(3, 3) },
    { name: 'pw over w', input: '?w=1&pw=2', error: pwError('2', 1) },
    { name: 'pw over the default w', input: '?pw=3', error: pwError('3', 2) },
    { name: 'pw three digits', input: '?pw=001', error: pwError('001', 2) },
    { name: 'pw negative', input: '?pw=-1', error: pwError('-1', 2) },
    { name: 'pw empty', input: '?pw=', error: pwError('', 2) },
    { name: 'pw wrong type', input: '?pw=all', error: pwError('all', 2) },
    { name: 'pw repeated: the first wins', input: '?pw=1&pw=9', want: options(2, 1) },
    { name: 'w is checked before pw', input: '?w=9&pw=x', error: quorumError('w', '9') },
    { name: 'sloppy true', input: '?sloppy=true', want: options(2, 0, true) },
    { name: 'sloppy false', input: '?sloppy=false', want: options(2, 0, false) },
    { name: 'sloppy upper case', input: '?sloppy=TRUE', error: sloppyError('TRUE') },
    { name: 'sloppy as a number', input: '?sloppy=1', error: sloppyError('1') },
    { name: 'sloppy empty', input: '?sloppy=', error: sloppyError('') },
    { name: 'sloppy without a value', input: '?sloppy', error: sloppyError('') },
    { name: 'sloppy repeated: the first wins', input: '?sloppy=false&sloppy=x', want: options(2, 0, false) },
    { name: 'pw is checked before sloppy', input: '?pw=x&sloppy=x', error: pwError('x', 2) },
    { name: 'sloppy is checked before timeout_ms', input: '?sloppy=x&timeout_ms=0', error: sloppyError('x') },
    { name: 'with timeout_ms', input: '?timeout_ms=250', want: options(2, 0, undefined, 250) },
  ], (query: string) => parseWriteOptions(edge(`/kv/k${query}`), LIMITS));
});

t.test('timeout_ms: 1 to the configured maximum, default the configured default', async (t) => {
  const timeoutError = (raw: string) => ({ code: 'KV_ERR_BAD_TIMEOUT' as const, message: `timeout_ms must be an integer from 1 to 60000 (got ${JSON.stringify(raw)})`, details: { max: 60_000 } });
  check<string, number>(t, [
    { name: 'absent: the default', input: '', want: 1_000 },
    { name: 'lowest', input: '?timeout_ms=1', want: 1 },
    { name: 'the maximum', input: '?timeout_ms=60000', want: 60_000 },
    { name: 'repeated: the first wins', input: '?timeout_ms=7&timeout_ms=x', want: 7 },
    { name: 'zero', input: '?timeout_ms=0', error: timeoutError('0') },
    { name: 'one over the maximum', input: '?timeout_ms=60001', error: timeoutError('60001') },
    { name: 'ten digits', input: '?timeout_ms=1000000000', error: timeoutError('1000000000') },
    { name: 'empty', input: '?timeout_ms=', error: timeoutError('') },
    { name: 'exponent', input: '?timeout_ms=1e3', error: timeoutError('1e3') },
    { name: 'with a unit', input: '?timeout_ms=5s', error: timeoutError('5s') },
    { name: 'negative', input: '?timeout_ms=-5', error: timeoutError('-5') },
  ], (query) => parseRead(edge(`/kv/k${query}`), LIMITS).timeoutMs);
  check<string, number>(t, [
    { name: 'a write takes the same option', input: '?timeout_ms=60000', want: 60_000 },
    { name: 'and refuses alike', input: '?timeout_ms=0', error: timeoutError('0') },
  ], (query) => parseWriteOptions(edge(`/kv/k${query}`), LIMITS).timeoutMs);
  check<string | undefined, number>(t, [
    { name: 'a default above the maximum is still refused at the maximum', input: '61', error: { code: 'KV_ERR_BAD_TIMEOUT', details: { max: 60 } } },
  ], (raw) => parseTimeout(raw, 10, 60));
});

t.test('ttl_ms: whole milliseconds from 1 to ten years, absent for none', async (t) => {
  const ttlError = (raw: string) => ({ code: 'KV_ERR_BAD_REQUEST' as const, message: `ttl_ms must be an integer from 1 to ${TTL_MS_MAX} (got ${JSON.stringify(raw)})`, details: { parameter: 'ttl_ms' } });
  check<string | undefined, number | undefined>(t, [
    { name: 'absent', input: undefined, want: undefined },
    { name: 'lowest', input: '1', want: 1 },
    { name: 'ten years', input: String(TTL_MS_MAX), want: TTL_MS_MAX },
    { name: 'one over', input: String(TTL_MS_MAX + 1), error: ttlError(String(TTL_MS_MAX + 1)) },
    { name: 'thirteen digits', input: '1000000000000', error: ttlError('1000000000000') },
    { name: 'zero', input: '0', error: ttlError('0') },
    { name: 'empty', input: '', error: ttlError('') },
    { name: 'fraction', input: '1.5', error: ttlError('1.5') },
    { name: 'negative', input: '-1', error: ttlError('-1') },
    { name: 'wrong type', input: 'forever', error: ttlError('forever') },
  ], parseTtl);
  check<string, number | undefined>(t, [
    { name: 'from the query', input: '?ttl_ms=500', want: 500 },
    { name: 'repeated: the first wins', input: '?ttl_ms=500&ttl_ms=0', want: 500 },
    { name: 'a bad one refused', input: '?ttl_ms=0', error: ttlError('0') },
  ], (query) => parsePut(edge(`/kv/k${query}`), LIMITS).ttlMs);
});

t.test('Content-Type: the header, or the default; at most 256 UTF-8 bytes', async (t) => {
  const tooLong = { code: 'KV_ERR_BAD_REQUEST' as const, message: 'Content-Type is longer than 256 bytes', details: {} };
  for (const node of [false, true]) {
    const via = node ? ' (Node headers)' : ' (web headers)';
    check<Record<string, string>, string>(t, [
      { name: `absent: the default${via}`, input: {}, want: DEFAULT_CONTENT_TYPE },
      { name: `given${via}`, input: { 'content-type': 'text/plain; charset=utf-8' }, want: 'text/plain; charset=utf-8' },
      { name: `empty is kept${via}`, input: { 'content-type': '' }, want: '' },
      { name: `256 bytes${via}`, input: { 'content-type': 'a'.repeat(256) }, want: 'a'.repeat(256) },
      { name: `257 bytes${via}`, input: { 'content-type': 'a'.repeat(257) }, error: tooLong },
    ], (headers) => parsePut(edge('/kv/k', headers, node), LIMITS).contentType);
  }
  check<string | undefined, string>(t, [
    { name: '128 two-byte characters: 256 bytes', input: 'é'.repeat(128), want: 'é'.repeat(128) },
    { name: '129 two-byte characters: 258 bytes, though fewer than 256 characters', input: 'é'.repeat(129), error: tooLong },
  ], parseContentType);
});

t.test('the context header: absent or empty is none; else decoded for the key', async (t) => {
  for (const node of [false, true]) {
    const via = node ? ' (Node headers)' : ' (web headers)';
    check<Record<string, string | string[]>, VersionVector>(t, [
      { name: `absent${via}`, input: {}, want: [] },
      { name: `empty${via}`, input: { [CONTEXT_HEADER]: '' }, want: [] },
      { name: `decoded, bound to this key${via}`, input: { [CONTEXT_HEADER]: 'good' }, want: [{ id: 'k', counter: 1 }] },
      { name: `not a context${via}`, input: { [CONTEXT_HEADER]: 'forged' }, error: { code: 'KV_ERR_BAD_CONTEXT', message: 'not a context: forged' } },
      { name: `repeated: joined, so refused${via}`, input: { [CONTEXT_HEADER]: ['good', 'good'] }, error: { code: 'KV_ERR_BAD_CONTEXT', message: 'not a context: good, good' } },
    ], (headers) => parsePut(edge('/kv/k', headers, node), LIMITS).context);
  }
  check<Record<string, string>, VersionVector>(t, [
    { name: 'a DELETE reads it alike', input: { [CONTEXT_HEADER]: 'good' }, want: [{ id: 'k', counter: 1 }] },
    { name: 'and refuses alike', input: { [CONTEXT_HEADER]: 'x' }, error: { code: 'KV_ERR_BAD_CONTEXT' } },
  ], (headers) => parseDelete(edge('/kv/k', headers), LIMITS).context);
});

t.test('the value limit: a declared Content-Length over it is refused before the body', async (t) => {
  check<string | null | undefined, string | undefined>(t, [
    { name: 'absent (chunked)', input: undefined, want: undefined },
    { name: 'absent (web)', input: null, want: undefined },
    { name: 'zero', input: '0', want: undefined },
    { name: 'exactly the limit', input: '10', want: undefined },
    { name: 'not a number: left to the streaming count', input: 'ten', want: undefined },
    { name: 'one over', input: '11', error: { code: 'KV_ERR_VALUE_TOO_LARGE', message: 'the value exceeds the limit of 10 bytes', details: { limit: 10, bytes: 11 } } },
    { name: 'far over', input: '99999999999', error: { code: 'KV_ERR_VALUE_TOO_LARGE', details: { limit: 10, bytes: 99_999_999_999 } } },
  ], (declared) => {
    const refused = declaredTooLarge(declared, 10);
    if (refused !== undefined) throw refused;
    return undefined;
  });
});

t.test('whether a body follows: Content-Length or Transfer-Encoding (a refused one is never read)', async (t) => {
  for (const node of [false, true]) {
    const via = node ? ' (Node headers)' : ' (web headers)';
    check<Record<string, string>, boolean>(t, [
      { name: `neither${via}`, input: {}, want: false },
      { name: `a length, even zero${via}`, input: { 'content-length': '0' }, want: true },
      { name: `chunked${via}`, input: { 'transfer-encoding': 'chunked' }, want: true },
      { name: `an unrelated header${via}`, input: { 'content-type': 'text/plain' }, want: false },
    ], (headers) => declaresBody(edge('/kv/k', headers, node)));
  }
});

t.test('whole requests: every option in one result, checked in a fixed order', async (t) => {
  t.strictSame(parseRead(edge('/kv/a%2Fb?r=1&timeout_ms=20'), LIMITS), { key: 'a/b', r: 1, timeoutMs: 20 });
  t.strictSame(parsePut(edge('/kv/k?w=3&pw=1&sloppy=false&timeout_ms=9&ttl_ms=60000', { 'content-type': 'application/json', [CONTEXT_HEADER]: 'good' }, true), LIMITS), {
    key: 'k',
    options: { w: 3, pw: 1, timeoutMs: 9, sloppy: false },
    context: [{ id: 'k', counter: 1 }],
    contentType: 'application/json',
    ttlMs: 60_000,
  });
  // A DELETE has no value: its Content-Type and ttl_ms are not options of it, and not checked.
  t.strictSame(parseDelete(edge('/kv/k?ttl_ms=0', { 'content-type': 'x'.repeat(300) }), LIMITS), { key: 'k', options: { w: 2, pw: 0, timeoutMs: 1_000, sloppy: undefined }, context: [] });
  const first = (path: string, headers: Record<string, string> = {}) => {
    try {
      parsePut(edge(path, headers), LIMITS);
      return 'none';
    } catch (error) {
      return (error as KvError).code;
    }
  };
  t.equal(first('/kv/?w=0'), 'KV_ERR_BAD_KEY', 'the key before the options');
  t.equal(first('/kv/k?w=0&timeout_ms=0'), 'KV_ERR_BAD_QUORUM', 'w before timeout_ms');
  t.equal(first('/kv/k?timeout_ms=0', { [CONTEXT_HEADER]: 'x' }), 'KV_ERR_BAD_TIMEOUT', 'timeout_ms before the context');
  t.equal(first('/kv/k', { [CONTEXT_HEADER]: 'x', 'content-type': 'x'.repeat(300) }), 'KV_ERR_BAD_CONTEXT', 'the context before Content-Type');
  t.equal(first('/kv/k?ttl_ms=0', { 'content-type': 'x'.repeat(300) }), 'KV_ERR_BAD_REQUEST', 'Content-Type before ttl_ms');
  t.throws(() => parseRead(edge('/kv/?r=0'), LIMITS), { code: 'KV_ERR_BAD_KEY' }, 'a read: the key before r');
  t.throws(() => parseRead(edge('/kv/k?r=0&timeout_ms=0'), LIMITS), { code: 'KV_ERR_BAD_QUORUM' }, 'a read: r before timeout_ms');
});

const MEMBERS: MemberLookup = {
  selfId: 'node1',
  member: (id) => ({ node1: { status: 'alive' }, node2: { status: 'alive' }, node3: { status: 'dead' }, node4: { status: 'suspect' } })[id],
};

t.test('admin and dashboard query options', async (t) => {
  check<string | undefined, string>(t, [
    { name: 'remove a dead member', input: 'node3', want: 'node3' },
    { name: 'no id', input: undefined, error: { code: 'KV_ERR_BAD_REQUEST', message: 'no member (give ?id=)', details: { id: null } } },
    { name: 'empty id', input: '', error: { code: 'KV_ERR_BAD_REQUEST', message: 'no member ', details: { id: '' } } },
    { name: 'unknown id', input: 'node9', error: { code: 'KV_ERR_BAD_REQUEST', message: 'no member node9', details: { id: 'node9' } } },
    { name: 'itself', input: 'node1', error: { code: 'KV_ERR_BAD_REQUEST', message: 'a node cannot remove itself: use POST /admin/leave', details: { id: 'node1' } } },
    { name: 'a live member', input: 'node2', error: { code: 'KV_ERR_BAD_REQUEST', message: 'member node2 is alive, not dead: only a dead member can be removed (a live one leaves)', details: { id: 'node2', status: 'alive' } } },
    { name: 'a suspect member', input: 'node4', error: { code: 'KV_ERR_BAD_REQUEST', details: { id: 'node4', status: 'suspect' } } },
  ], (id) => parseRemoveTarget(id, MEMBERS));
  check<string | undefined, string>(t, [
    { name: 'pause', input: 'pause', want: 'pause' },
    { name: 'resume', input: 'resume', want: 'resume' },
    { name: 'absent', input: undefined, error: { code: 'KV_ERR_BAD_REQUEST', message: 'action must be pause or resume', details: { action: null } } },
    { name: 'empty', input: '', error: { code: 'KV_ERR_BAD_REQUEST', details: { action: '' } } },
    { name: 'upper case', input: 'PAUSE', error: { code: 'KV_ERR_BAD_REQUEST', details: { action: 'PAUSE' } } },
  ], parseTransferAction);
  check<string | undefined, string | undefined>(t, [
    { name: 'anti-entropy with every partner', input: undefined, want: undefined },
    { name: 'anti-entropy with one member', input: 'node2', want: 'node2' },
    { name: 'even a dead one (the exchange reports it)', input: 'node3', want: 'node3' },
    { name: 'an unknown peer', input: 'nodeX', error: { code: 'KV_ERR_BAD_REQUEST', message: 'no member nodeX', details: { peer: 'nodeX' } } },
    { name: 'an empty peer', input: '', error: { code: 'KV_ERR_BAD_REQUEST', details: { peer: '' } } },
  ], (peer) => parseExchangePeer(peer, MEMBERS));
  const long = 'x'.repeat(300);
  check<string | undefined, string | undefined>(t, [
    { name: 'the dashboard asks every member', input: undefined, want: undefined },
    { name: 'or one', input: 'node3', want: 'node3' },
    { name: 'an unknown node', input: 'nodeX', error: { code: 'KV_ERR_BAD_REQUEST', message: 'no member "nodeX"', details: { node: 'nodeX' } } },
    { name: 'an oversize unknown node is echoed cut to 200 characters', input: long, error: { code: 'KV_ERR_BAD_REQUEST', message: `no member ${JSON.stringify(long.slice(0, 200))}`, details: { node: long.slice(0, 200) } } },
  ], (node) => parseDashboardNode(node, MEMBERS));
});

const json = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

t.test('the internal members body', async (t) => {
  const shape = { code: 'KV_ERR_BAD_REQUEST' as const, message: 'members must be [{id, address: "http://host:port", zone?: NAME}]', details: {} };
  const member = (i: number) => ({ id: `node${i}`, address: `http://127.0.0.1:${1000 + i}` });
  check<Uint8Array, unknown>(t, [
    { name: 'a list', input: json({ members: [member(1), { ...member(2), zone: 'a' }] }), want: [member(1), { ...member(2), zone: 'a' }] },
    { name: 'empty list', input: json({ members: [] }), want: [] },
    { name: 'a null or empty zone is none', input: json({ members: [{ ...member(1), zone: null }, { ...member(2), zone: '' }] }), want: [member(1), member(2)] },
    { name: 'https and a name', input: json({ members: [{ id: 'a.b-c_d', address: 'https://db-1.example:443' }] }), want: [{ id: 'a.b-c_d', address: 'https://db-1.example:443' }] },
    { name: 'unknown fields are dropped', input: json({ members: [{ ...member(1), role: 'x' }], other: 1 }), want: [member(1)] },
    { name: '1024 members', input: json({ members: Array.from({ length: 1024 }, (_, i) => member(i)) }), want: Array.from({ length: 1024 }, (_, i) => member(i)) },
    { name: '1025 members', input: json({ members: Array.from({ length: 1025 }, (_, i) => member(i)) }), error: shape },
    { name: 'empty body', input: json(''), error: { code: 'KV_ERR_BAD_REQUEST', message: 'members must be JSON' } },
    { name: 'not JSON', input: json('{members:'), error: { code: 'KV_ERR_BAD_REQUEST', message: 'members must be JSON' } },
    { name: 'not UTF-8', input: Uint8Array.of(0xff, 0xfe), error: { code: 'KV_ERR_BAD_REQUEST', message: 'members must be JSON' } },
    { name: 'an array', input: json([member(1)]), error: { code: 'KV_ERR_BAD_REQUEST', message: 'members must be a JSON object {"members": [...]}' } },
    { name: 'null', input: json('null'), error: { code: 'KV_ERR_BAD_REQUEST', message: 'members must be a JSON object {"members": [...]}' } },
    { name: 'no members', input: json({}), error: shape },
    { name: 'members not a list', input: json({ members: 'node1' }), error: shape },
    { name: 'an entry not an object', input: json({ members: [1] }), error: shape },
    { name: 'a bad id', input: json({ members: [{ ...member(1), id: 'a b' }] }), error: shape },
    { name: 'an id of 65 bytes', input: json({ members: [{ ...member(1), id: 'x'.repeat(65) }] }), error: shape },
    { name: 'an id of the wrong type', input: json({ members: [{ ...member(1), id: 7 }] }), error: shape },
    { name: 'an address with a path', input: json({ members: [{ ...member(1), address: 'http://h:1/x' }] }), error: shape },
    { name: 'an address with credentials', input: json({ members: [{ ...member(1), address: 'http://u@h:1' }] }), error: shape },
    { name: 'another scheme', input: json({ members: [{ ...member(1), address: 'ftp://h:1' }] }), error: shape },
    { name: 'a bad zone', input: json({ members: [{ ...member(1), zone: 'a zone' }] }), error: shape },
  ], parseMembers);
});

t.test('the internal fault plan body', async (t) => {
  const shape = { code: 'KV_ERR_BAD_REQUEST' as const, message: 'faults must be {"block": [member ids], "storeDelayMs": 0..60000}, either or both', details: {} };
  check<Uint8Array, unknown>(t, [
    { name: 'block', input: json({ block: ['node2', 'node3'] }), want: { block: ['node2', 'node3'] } },
    { name: 'heal', input: json({ block: [] }), want: { block: [] } },
    { name: 'a store delay', input: json({ storeDelayMs: 250 }), want: { storeDelayMs: 250 } },
    { name: 'no delay', input: json({ storeDelayMs: 0 }), want: { storeDelayMs: 0 } },
    { name: 'the longest delay', input: json({ storeDelayMs: 60_000 }), want: { storeDelayMs: 60_000 } },
    { name: 'both', input: json({ block: ['node2'], storeDelayMs: 1 }), want: { block: ['node2'], storeDelayMs: 1 } },
    { name: 'neither', input: json({}), error: shape },
    { name: 'a delay too long', input: json({ storeDelayMs: 60_001 }), error: shape },
    { name: 'a negative delay', input: json({ storeDelayMs: -1 }), error: shape },
    { name: 'a fractional delay', input: json({ storeDelayMs: 1.5 }), error: shape },
    { name: 'a delay as a string', input: json({ storeDelayMs: '5' }), error: shape },
    { name: 'block not a list', input: json({ block: 'node2' }), error: shape },
    { name: 'block with a bad id', input: json({ block: ['node 2'] }), error: shape },
    { name: 'block of 1025 ids', input: json({ block: Array.from({ length: 1025 }, (_, i) => `n${i}`) }), error: shape },
    { name: 'not JSON', input: json('block'), error: shape },
    { name: 'an array', input: json([]), error: shape },
    { name: 'null', input: json('null'), error: shape },
  ], parseFaultPlan);
});

t.test('X-Ringkv-Request-Id on a causal PUT and DELETE (docs/idempotency.md): absent, or 1 to 128 of A-Z a-z 0-9 . _ : -', async (t) => {
  const bad = { code: 'KV_ERR_BAD_REQUEST' as const, message: 'x-ringkv-request-id must be 1 to 128 characters of A-Z a-z 0-9 . _ : -', details: { parameter: 'x-ringkv-request-id', limit: 128 } };
  for (const node of [false, true]) {
    const via = node ? ' (Node headers)' : ' (web headers)';
    check<Record<string, string | string[]>, string | undefined>(t, [
      { name: `absent${via}`, input: {}, want: undefined },
      { name: `a UUID${via}`, input: { 'x-ringkv-request-id': '0b7e9f4c-3d6a-4f2e-9a55-7c1d2e3f4a5b' }, want: '0b7e9f4c-3d6a-4f2e-9a55-7c1d2e3f4a5b' },
      { name: `one character${via}`, input: { 'x-ringkv-request-id': 'a' }, want: 'a' },
      { name: `128 characters${via}`, input: { 'x-ringkv-request-id': 'a'.repeat(128) }, want: 'a'.repeat(128) },
      { name: `129 characters${via}`, input: { 'x-ringkv-request-id': 'a'.repeat(129) }, error: bad },
      { name: `empty${via}`, input: { 'x-ringkv-request-id': '' }, error: bad },
      { name: `a space${via}`, input: { 'x-ringkv-request-id': 'a b' }, error: bad },
      { name: `non-ASCII${via}`, input: { 'x-ringkv-request-id': 'idé' }, error: bad },
      { name: `repeated: joined, so refused${via}`, input: { 'x-ringkv-request-id': ['a', 'b'] }, error: bad },
    ], (headers) => parsePut(edge('/kv/k', headers, node), LIMITS).requestId);
  }
  check<Record<string, string>, string | undefined>(t, [
    { name: 'a DELETE reads it alike', input: { 'x-ringkv-request-id': 'del-1' }, want: 'del-1' },
    { name: 'and refuses alike', input: { 'x-ringkv-request-id': 'a/b' }, error: bad },
  ], (headers) => parseDelete(edge('/kv/k', headers), LIMITS).requestId);
  t.strictSame(parsePut(edge('/kv/k', { 'x-ringkv-request-id': 'r1' }), LIMITS), { key: 'k', options: { w: 2, pw: 0, timeoutMs: 1_000, sloppy: undefined }, context: [], contentType: DEFAULT_CONTENT_TYPE, ttlMs: undefined, requestId: 'r1' });
  let code = 'none';
  try {
    parsePut(edge('/kv/k', { [CONTEXT_HEADER]: 'x', 'x-ringkv-request-id': '' }), LIMITS);
  } catch (error) {
    code = (error as KvError).code;
  }
  t.equal(code, 'KV_ERR_BAD_CONTEXT', 'the context before the request id');
});
