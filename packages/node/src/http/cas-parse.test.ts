// parseCas and parseRequestId (http/parse.ts), table-driven: which requests are CAS requests,
// what each option gives, and the coded 400 every malformed one raises before any work.
import t from 'tap';
import { HonoRequest } from 'hono/request';
import { KvError } from '../errors.js';
import { parseCas, parseRequestId, type CasRequest, type ClientLimits } from './parse.js';

const LIMITS: ClientLimits = { n: 3, keyBytesMax: 16, requestTimeoutMsDefault: 1_000, requestTimeoutMsMax: 60_000, decodeContext: () => [] };

function parse(method: string, path: string, headers: Record<string, string> = {}): CasRequest | undefined {
  const req = new HonoRequest(new Request(`http://node.test${path}`, { method, headers }));
  return parseCas({ env: undefined, req }, LIMITS);
}

t.test('requests without a CAS option are left to the causal routes', async (t) => {
  for (const path of ['/kv/k', '/kv/k?w=2', '/kv/k?r=1&timeout_ms=5', '/kv/k?consistently=1']) t.equal(parse('PUT', path), undefined, path);
});

t.test('what each option gives', async (t) => {
  t.strictSame(parse('GET', '/kv/k?consistent=1'), { key: 'k', timeoutMs: 1_000, kind: 'read', condition: { kind: 'always' }, requestId: undefined, contentType: '' });
  t.strictSame(parse('PUT', '/kv/k?if_absent=1&timeout_ms=70', { 'content-type': 'text/x', 'x-ringkv-request-id': 'a.b:c-9_' }), { key: 'k', timeoutMs: 70, kind: 'set', condition: { kind: 'absent' }, requestId: 'a.b:c-9_', contentType: 'text/x' });
  t.match(parse('PUT', '/kv/k?if_version=0'), { condition: { kind: 'version', version: 0 } });
  t.match(parse('PUT', `/kv/k?if_version=${Number.MAX_SAFE_INTEGER}`), { condition: { kind: 'version', version: Number.MAX_SAFE_INTEGER } });
  t.match(parse('DELETE', '/kv/k?consistent=1'), { kind: 'set', condition: { kind: 'always' }, contentType: '' });
  t.match(parse('PUT', '/kv/k?if_absent=1', { 'x-ringkv-context': '' }), { kind: 'set' }, 'an empty context header is no context');
});

t.test('malformed options are coded 400s', async (t) => {
  const rows: Array<[string, string, Record<string, string>, RegExp]> = [
    ['PUT', '/kv/k?if_absent=true', {}, /if_absent must be 1/],
    ['PUT', '/kv/k?consistent=', {}, /consistent must be 1/],
    ['PUT', '/kv/k?if_version=1e3', {}, /if_version must be an integer/],
    ['PUT', '/kv/k?if_version=9007199254740992', {}, /if_version must be an integer/],
    ['PUT', '/kv/k?if_version=', {}, /if_version must be an integer/],
    ['PUT', '/kv/k?if_version=1&consistent=1', {}, /one of/],
    ['PUT', '/kv/k?if_absent=1&sloppy=true', {}, /sloppy does not apply/],
    ['PUT', '/kv/k?if_absent=1&pw=1', {}, /pw does not apply/],
    ['GET', '/kv/k?consistent=1&r=2', {}, /r does not apply/],
    ['GET', '/kv/k?if_absent=1', {}, /a read takes consistent=1/],
    ['PUT', '/kv/k?if_absent=1', { 'x-ringkv-context': 'abc' }, /does not apply to compare-and-set/],
    ['PUT', '/kv/k?if_absent=1', { 'x-ringkv-request-id': 'é' }, /must be 1 to 128/],
    ['PUT', '/kv/k?if_absent=1&timeout_ms=0', {}, /timeout_ms/],
  ];
  for (const [method, path, headers, message] of rows) {
    t.throws(() => parse(method, path, headers), message, `${method} ${path}`);
    try {
      parse(method, path, headers);
    } catch (error) {
      t.ok(error instanceof KvError && error.status === 400, `${method} ${path}: a coded 400`);
    }
  }
  t.throws(() => parse('PUT', `/kv/${'k'.repeat(17)}?if_absent=1`), { code: 'KV_ERR_BAD_KEY' }, 'the key is checked first');
});

t.test('request ids: 1 to 128 characters of A-Z a-z 0-9 . _ : -', async (t) => {
  t.equal(parseRequestId(undefined), undefined);
  t.equal(parseRequestId('x'.repeat(128)), 'x'.repeat(128));
  for (const bad of ['', 'x'.repeat(129), 'a b', 'a/b', 'ü']) t.throws(() => parseRequestId(bad), { code: 'KV_ERR_BAD_REQUEST', details: { limit: 128 } }, JSON.stringify(bad));
});
