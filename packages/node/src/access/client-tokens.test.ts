// The auth file's parser (every malformed file is a KV_ERR_CONFIG naming where) and the grant
// rule (prefix match, write = PUT and DELETE, "" = every key), table-driven.
import t from 'tap';
import { granted, parseAuthFile } from './client-tokens.js';
import { bearerToken, sameToken, tokenDigest } from './bearer.js';

const digest = (token: string) => tokenDigest(token).toString('hex');
const file = (tokens: unknown) => JSON.stringify({ tokens });
const app = { name: 'app', sha256: digest('app-token'), grants: [{ prefix: 'cart/', ops: ['read', 'write'] }, { prefix: 'catalog/', ops: ['read'] }] };

t.test('a valid file: tokens by digest, grants by prefix and operation', async (t) => {
  const table = parseAuthFile(file([app, { name: 'admin-like', sha256: digest('all').toUpperCase(), grants: [{ prefix: '', ops: ['read', 'write'] }] }, { name: 'none', sha256: digest('none'), grants: [] }]));
  t.equal(table.size, 3);
  const token = table.get(digest('app-token'))!;
  const cases: Array<[key: string, op: 'read' | 'write', expected: boolean]> = [
    ['cart/1', 'read', true],
    ['cart/1', 'write', true],
    ['cart/', 'write', true],
    ['cart', 'read', false], // the prefix is a string prefix: "cart" does not start with "cart/"
    ['catalog/x', 'read', true],
    ['catalog/x', 'write', false],
    ['other', 'read', false],
    ['CART/1', 'read', false],
  ];
  for (const [key, op, expected] of cases) t.equal(granted(token, key, op), expected, `${op} ${key} → ${expected}`);
  t.ok(granted(table.get(digest('all'))!, 'anything', 'write'), 'an upper-case digest is accepted; "" grants every key');
  t.notOk(granted(table.get(digest('none'))!, 'anything', 'read'), 'a token without grants is known but granted nothing');
});

t.test('every malformed file is a KV_ERR_CONFIG that says where', async (t) => {
  const cases: Array<[name: string, text: string, at: string]> = [
    ['not JSON', '{tokens: []', 'file'],
    ['not an object', '[]', 'file'],
    ['unknown top-level field', JSON.stringify({ tokens: [], users: [] }), 'file'],
    ['tokens not an array', JSON.stringify({ tokens: {} }), 'tokens'],
    ['token not an object', file(['x']), 'tokens[0]'],
    ['bad name', file([{ ...app, name: 'has space' }]), 'tokens[0].name'],
    ['duplicate name', file([app, { ...app, sha256: digest('other') }]), 'tokens[1].name'],
    ['short digest', file([{ ...app, sha256: 'abc' }]), 'tokens[0].sha256'],
    ['the token itself instead of its digest', file([{ ...app, sha256: 'app-token' }]), 'tokens[0].sha256'],
    ['duplicate digest', file([app, { ...app, name: 'app2' }]), 'tokens[1].sha256'],
    ['grants missing', file([{ name: 'a', sha256: digest('a') }]), 'tokens[0].grants'],
    ['typo "grant"', file([{ name: 'a', sha256: digest('a'), grant: [] }]), 'tokens[0]'],
    ['grant without prefix', file([{ ...app, grants: [{ ops: ['read'] }] }]), 'tokens[0].grants[0].prefix'],
    ['empty ops', file([{ ...app, grants: [{ prefix: '', ops: [] }] }]), 'tokens[0].grants[0].ops'],
    ['unknown op', file([{ ...app, grants: [{ prefix: '', ops: ['delete'] }] }]), 'tokens[0].grants[0].ops'],
    ['prefix too long', file([{ ...app, grants: [{ prefix: 'p'.repeat(1025), ops: ['read'] }] }]), 'tokens[0].grants[0].prefix'],
  ];
  for (const [name, text, at] of cases) {
    t.throws(() => parseAuthFile(text), { code: 'KV_ERR_CONFIG', details: { field: 'authFile', at } }, name);
  }
});

t.test('bearer tokens: parsing and constant-time comparison', async (t) => {
  const cases: Array<[header: string | undefined, token: string | undefined]> = [
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER  abc ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    ['Bearer é', undefined],
    [`Bearer ${'x'.repeat(513)}`, undefined],
    [undefined, undefined],
  ];
  for (const [header, token] of cases) t.equal(bearerToken(header), token, JSON.stringify(header?.slice(0, 20)));
  t.ok(sameToken('secret-token', 'secret-token'));
  t.notOk(sameToken('secret-tokeN', 'secret-token'));
  t.notOk(sameToken('secret', 'secret-token'), 'a prefix is not the token');
  t.notOk(sameToken(undefined, 'secret-token'));
  t.notOk(sameToken('', ''), 'an empty expected token matches nothing');
});
