import { createHmac } from 'node:crypto';
import t, { type Test } from 'tap';
import { AUTH_HEADERS, AUTH_SKEW_MS_DEFAULT, ReplayGuard, checkAuthHeaders, signRequest, verifyRequest } from './auth.js';
import { KvError } from '../errors.js';

const SECRET = 'cluster-secret-1';
const PATH = '/internal/batch';
const SENDER = 'node-a';
const NOW = 1_700_000_000_000;
const body = Uint8Array.from([1, 2, 0, 255, 0x61, 0x62]);

const NONCE = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The tag exactly as the documented format says: HMAC-SHA256 of `time \n path \n sender \n nonce \n body`. */
function tagFor(secret: string, time: string, path: string, sender: string, bytes: Uint8Array, nonce = NONCE): string {
  return createHmac('sha256', secret).update(`${time}\n${path}\n${sender}\n${nonce}\n`).update(bytes).digest().toString('base64url');
}

function headersOf(record: Record<string, string>): Headers {
  return new Headers(record);
}

function verify(record: Record<string, string>, options: { path?: string; bytes?: Uint8Array; nowMs?: number; secret?: string; skewMs?: number } = {}): string {
  return verifyRequest(options.secret ?? SECRET, headersOf(record), options.path ?? PATH, options.bytes ?? body, options.nowMs ?? NOW, options.skewMs);
}

/** Asserts `fn` throws 401 KV_ERR_UNAUTHORIZED with a message matching `reason`. */
function unauthorized(t: Test, fn: () => unknown, reason: RegExp, what: string): void {
  try {
    const value = fn();
    t.fail(`${what}: accepted (sender ${JSON.stringify(value)})`);
  } catch (error) {
    t.ok(error instanceof KvError && error.code === 'KV_ERR_UNAUTHORIZED' && error.status === 401, `${what}: 401 KV_ERR_UNAUTHORIZED (got ${String(error)})`);
    t.match((error as Error).message, reason, `${what}: for the right reason`);
  }
}

t.test('a signed request verifies and yields the sender; the headers carry time, sender, nonce and tag', async (t) => {
  const headers = signRequest(SECRET, SENDER, PATH, body, NOW);
  t.same(Object.keys(headers).sort(), [AUTH_HEADERS.tag, AUTH_HEADERS.sender, AUTH_HEADERS.nonce, AUTH_HEADERS.time].sort());
  t.equal(headers[AUTH_HEADERS.time], String(NOW));
  t.equal(headers[AUTH_HEADERS.sender], SENDER);
  const nonce = headers[AUTH_HEADERS.nonce]!;
  t.match(nonce, /^[A-Za-z0-9_-]{22}$/, 'the nonce is 128 random bits in base64url');
  t.equal(headers[AUTH_HEADERS.tag], tagFor(SECRET, String(NOW), PATH, SENDER, body, nonce), 'the tag follows the documented format');
  t.equal(signRequest(SECRET, SENDER, PATH, body, NOW, NONCE)[AUTH_HEADERS.tag], tagFor(SECRET, String(NOW), PATH, SENDER, body), 'a given nonce is signed');
  t.equal(verify(headers), SENDER);
  t.equal(verify(signRequest(SECRET, 'other.node_9', PATH, new Uint8Array(0), NOW), { bytes: new Uint8Array(0) }), 'other.node_9', 'an empty body, another sender');
  t.equal(verify(signRequest(SECRET, SENDER, PATH, body, NOW + 0.9)), SENDER, 'a fractional clock is floored');
});

t.test('signatures cover every byte of a large body', async (t) => {
  const large = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
  const headers = signRequest(SECRET, SENDER, PATH, large, NOW);
  t.equal(verify(headers, { bytes: large }), SENDER);
  const altered = Uint8Array.from(large);
  altered[large.length - 1] = altered[large.length - 1]! ^ 1;
  unauthorized(t, () => verify(headers, { bytes: altered }), /bad cluster authentication/, 'the last byte flipped');
});

t.test('a missing header is refused', async (t) => {
  const headers = signRequest(SECRET, SENDER, PATH, body, NOW);
  for (const name of Object.values(AUTH_HEADERS)) {
    const without = { ...headers };
    delete without[name];
    unauthorized(t, () => verify(without), /missing/, `without ${name}`);
  }
  unauthorized(t, () => verify({}), /missing/, 'without any header');
});

t.test('a wrong secret is refused', async (t) => {
  unauthorized(t, () => verify(signRequest('another-secret', SENDER, PATH, body, NOW)), /bad cluster authentication/, 'signed with another secret');
  unauthorized(t, () => verify(signRequest(SECRET, SENDER, PATH, body, NOW), { secret: 'another-secret' }), /bad cluster authentication/, 'verified with another secret');
  unauthorized(t, () => verify(signRequest(SECRET + 'x', SENDER, PATH, body, NOW)), /bad cluster authentication/, 'a secret with one more character');
});

t.test('a signature for another path is refused', async (t) => {
  const headers = signRequest(SECRET, SENDER, '/internal/coordinate', body, NOW);
  unauthorized(t, () => verify(headers, { path: '/internal/batch' }), /bad cluster authentication/, 'coordinate signature on batch');
  unauthorized(t, () => verify(signRequest(SECRET, SENDER, PATH, body, NOW), { path: '/internal/members' }), /bad cluster authentication/, 'batch signature on members');
});

t.test('a changed sender is refused', async (t) => {
  const headers = { ...signRequest(SECRET, SENDER, PATH, body, NOW), [AUTH_HEADERS.sender]: 'node-evil' };
  unauthorized(t, () => verify(headers), /bad cluster authentication/, 'sender replaced');
  const prefix = { ...signRequest(SECRET, SENDER, PATH, body, NOW), [AUTH_HEADERS.sender]: 'node-' };
  unauthorized(t, () => verify(prefix), /bad cluster authentication/, 'sender shortened to a prefix');
});

t.test('an altered body is refused', async (t) => {
  const headers = signRequest(SECRET, SENDER, PATH, body, NOW);
  for (let i = 0; i < body.length; i++) {
    const altered = Uint8Array.from(body);
    altered[i] = altered[i]! ^ 0x01;
    unauthorized(t, () => verify(headers, { bytes: altered }), /bad cluster authentication/, `byte ${i} flipped`);
  }
  unauthorized(t, () => verify(headers, { bytes: body.subarray(0, body.length - 1) }), /bad cluster authentication/, 'one byte shorter');
  unauthorized(t, () => verify(headers, { bytes: Uint8Array.from([...body, 0]) }), /bad cluster authentication/, 'one byte longer');
  unauthorized(t, () => verify(headers, { bytes: new Uint8Array(0) }), /bad cluster authentication/, 'empty');
});

t.test('a tampered or malformed tag is refused without throwing anything else', async (t) => {
  const headers = signRequest(SECRET, SENDER, PATH, body, NOW);
  const tag = headers[AUTH_HEADERS.tag]!;
  const flipped = (tag[0] === 'A' ? 'B' : 'A') + tag.slice(1);
  for (const [what, value] of [
    ['first character changed', flipped],
    ['truncated', tag.slice(0, 20)],
    ['extended', tag + 'AAAA'],
    ['empty', ''],
    ['not base64', '!!!!'],
    ['hex instead of base64url', Buffer.from(tag, 'base64url').toString('hex')],
  ] as const) {
    unauthorized(t, () => verify({ ...headers, [AUTH_HEADERS.tag]: value }), /bad cluster authentication/, `tag ${what}`);
  }
});

t.test(`a time outside the skew window (default ${AUTH_SKEW_MS_DEFAULT} ms) is refused, in both directions`, async (t) => {
  const at = (offsetMs: number) => signRequest(SECRET, SENDER, PATH, body, NOW + offsetMs);
  t.equal(verify(at(-AUTH_SKEW_MS_DEFAULT)), SENDER, 'exactly the skew in the past is accepted');
  t.equal(verify(at(AUTH_SKEW_MS_DEFAULT)), SENDER, 'exactly the skew in the future is accepted');
  unauthorized(t, () => verify(at(-AUTH_SKEW_MS_DEFAULT - 1)), /window/, 'one ms too old');
  unauthorized(t, () => verify(at(AUTH_SKEW_MS_DEFAULT + 1)), /window/, 'one ms too far in the future');
  unauthorized(t, () => verify(at(-24 * 3600_000)), /window/, 'a day old (a replay)');
  unauthorized(t, () => verify(signRequest(SECRET, SENDER, PATH, body, 0)), /window/, 'time 0');
  // A custom skew.
  t.equal(verify(at(-500), { skewMs: 500 }), SENDER, 'within a custom 500 ms skew');
  unauthorized(t, () => verify(at(-501), { skewMs: 500 }), /window/, 'past a custom 500 ms skew (old)');
  unauthorized(t, () => verify(at(501), { skewMs: 500 }), /window/, 'past a custom 500 ms skew (future)');
});

t.test('a time that is not a plain decimal integer is refused even with a valid tag over it', async (t) => {
  const cases = ['abc', '', ' 1700000000000', '1700000000000 ', '1700000000000.5', '-1700000000000', '+1700000000000', '1.7e12', '0x18BCFE56800', 'NaN', 'Infinity', '12345678901234567'];
  for (const time of cases) {
    const headers = {
      [AUTH_HEADERS.time]: time,
      [AUTH_HEADERS.sender]: SENDER,
      [AUTH_HEADERS.nonce]: NONCE,
      [AUTH_HEADERS.tag]: tagFor(SECRET, time, PATH, SENDER, body),
    };
    // Headers trims surrounding whitespace; what matters is that the request is refused.
    unauthorized(t, () => verify(headers, { nowMs: Number.isFinite(Number(time)) ? Number(time) : NOW }), /window|bad cluster authentication/, `time ${JSON.stringify(time)}`);
  }
  const valid = { [AUTH_HEADERS.time]: String(NOW), [AUTH_HEADERS.sender]: SENDER, [AUTH_HEADERS.nonce]: NONCE, [AUTH_HEADERS.tag]: tagFor(SECRET, String(NOW), PATH, SENDER, body) };
  t.equal(verify(valid), SENDER, 'control: the same construction with a decimal time verifies');
  // The non-numeric forms that are still "close" to now must fail on the time check itself.
  for (const time of ['1700000000000.5', '1.7e12', '0x18BCFE56800', '+1700000000000']) {
    const headers = { [AUTH_HEADERS.time]: time, [AUTH_HEADERS.sender]: SENDER, [AUTH_HEADERS.nonce]: NONCE, [AUTH_HEADERS.tag]: tagFor(SECRET, time, PATH, SENDER, body) };
    unauthorized(t, () => verify(headers, { nowMs: Number(time) }), /window/, `time ${time} refused by the time check`);
  }
});

// ---- Regression tests (review of the transport and internal routes).

t.test('nonce: two signatures of the same request at the same millisecond differ, so the replay guard never refuses an honest repeat', async (t) => {
  const first = signRequest(SECRET, SENDER, PATH, body, NOW);
  const second = signRequest(SECRET, SENDER, PATH, body, NOW);
  t.not(first[AUTH_HEADERS.nonce], second[AUTH_HEADERS.nonce], 'fresh nonces');
  t.not(first[AUTH_HEADERS.tag], second[AUTH_HEADERS.tag], 'hence distinct tags');
  t.equal(verify(first), SENDER);
  t.equal(verify(second), SENDER);
  const guard = new ReplayGuard(16);
  t.ok(guard.admit(first[AUTH_HEADERS.tag]!, NOW, NOW), 'the first is admitted');
  t.ok(guard.admit(second[AUTH_HEADERS.tag]!, NOW, NOW), 'and so is the identical second request');
  unauthorized(t, () => verify({ ...first, [AUTH_HEADERS.nonce]: second[AUTH_HEADERS.nonce]! }), /bad cluster authentication/, 'a nonce swapped under a valid tag');
});

t.test('auth headers are checked before the body: malformed sender, nonce or tag, and a stale or non-numeric time, are refused from the headers alone', async (t) => {
  const headers = signRequest(SECRET, SENDER, PATH, body, NOW, NONCE);
  const check = (record: Record<string, string>, nowMs = NOW) => checkAuthHeaders(headersOf(record), nowMs);
  t.match(check(headers), { sender: SENDER, nonce: NONCE, timeMs: NOW, tag: headers[AUTH_HEADERS.tag] }, 'control: well-formed headers pass');
  unauthorized(t, () => check({ ...headers, [AUTH_HEADERS.time]: 'soon' }), /window/, 'a non-numeric time');
  unauthorized(t, () => check(headers, NOW + AUTH_SKEW_MS_DEFAULT + 1), /window/, 'a stale time');
  for (const sender of ['', 'node a', 'n'.repeat(65), 'node/a', 'nöde']) {
    unauthorized(t, () => check({ ...headers, [AUTH_HEADERS.sender]: sender }), /malformed sender/, `sender ${JSON.stringify(sender)}`);
  }
  for (const nonce of ['', 'short', 'A'.repeat(65), 'AAAAAAAAAAAAAAAAAAAA+/', 'AAAAAAAAAAAAAAAAAAAAAA==']) {
    unauthorized(t, () => check({ ...headers, [AUTH_HEADERS.nonce]: nonce }), /malformed nonce/, `nonce ${JSON.stringify(nonce)}`);
  }
  const tag = headers[AUTH_HEADERS.tag]!;
  for (const bad of ['', tag.slice(1), tag + 'A', tag.replace(/.$/, '+'), `${tag}=`]) {
    unauthorized(t, () => check({ ...headers, [AUTH_HEADERS.tag]: bad }), /malformed tag/, `tag ${JSON.stringify(bad)}`);
  }
});

t.test('a tag with its two spare bits flipped (a non-canonical encoding of the same HMAC) is refused, so it cannot slip past the replay guard', async (t) => {
  const headers = signRequest(SECRET, SENDER, PATH, body, NOW, NONCE);
  const tag = headers[AUTH_HEADERS.tag]!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(tag[tag.length - 1]!);
  const twin = tag.slice(0, -1) + alphabet[last ^ 1]!;
  t.same(Buffer.from(twin, 'base64url'), Buffer.from(tag, 'base64url'), 'fixture: both strings decode to the same 32 bytes');
  unauthorized(t, () => verify({ ...headers, [AUTH_HEADERS.tag]: twin }), /malformed tag/, 'the non-canonical twin');
  t.equal(verify(headers), SENDER, 'control: the canonical tag verifies');
});

t.test('replay guard: a tag accepted once is refused inside the skew window, and forgotten only once its time left the window', async (t) => {
  const guard = new ReplayGuard(1_000, 500);
  t.ok(guard.admit('tag-1', NOW, NOW), 'first use admitted');
  t.notOk(guard.admit('tag-1', NOW, NOW), 'a replay in the same millisecond is refused');
  t.ok(guard.isReplay('tag-1', NOW, NOW + 500), 'still refused at the edge of the window');
  t.notOk(guard.admit('tag-1', NOW, NOW + 500), 'admit refuses it too');
  t.equal(guard.size, 1);
  t.ok(guard.admit('tag-2', NOW + 400, NOW + 400), 'another tag is admitted');
  t.ok(guard.isReplay('tag-1', NOW, NOW + 501), 'past the window the entry is gone, but the time is at the horizon: still refused');
  t.equal(guard.size, 1, 'the expired entry was forgotten');
  t.notOk(guard.admit('tag-1', NOW, NOW - 1_000), 'even if the local clock steps back, the forgotten tag stays refused');
  t.ok(guard.admit('tag-3', NOW + 1, NOW - 1_000), 'a newer time is still admitted');
});

t.test('replay guard: bounded by entriesMax; forgetting the oldest raises the horizon so no forgotten tag can be replayed', async (t) => {
  const guard = new ReplayGuard(3, 30_000);
  t.ok(guard.admit('a', NOW + 10, NOW));
  t.ok(guard.admit('b', NOW + 30, NOW));
  t.ok(guard.admit('c', NOW + 20, NOW));
  t.equal(guard.size, 3);
  t.ok(guard.admit('d', NOW + 40, NOW), 'a fourth tag is admitted');
  t.equal(guard.size, 3, 'the guard stays at its bound');
  t.ok(guard.isReplay('a', NOW + 10, NOW), 'the forgotten oldest tag (time +10) is still refused, by the horizon');
  t.ok(guard.isReplay('c', NOW + 20, NOW), 'remembered tags are refused');
  t.notOk(guard.admit('e', NOW + 10, NOW), 'a new tag at or below the horizon is refused');
  t.notOk(guard.admit('f', NOW + 5, NOW), 'a new tag older than everything remembered is refused without evicting');
  t.equal(guard.size, 3);
  t.ok(guard.isReplay('c', NOW + 20, NOW), 'and nothing was evicted for it');
  t.ok(guard.admit('g', NOW + 50, NOW), 'a newer tag evicts the oldest (c, +20)');
  t.ok(guard.isReplay('c', NOW + 20, NOW), 'which stays refused');
  t.notOk(guard.isReplay('h', NOW + 21, NOW), 'a fresh tag above the horizon is fine');
  t.throws(() => new ReplayGuard(0), RangeError, 'entriesMax must be positive');
});

t.test('replay guard: under churn it holds at most entriesMax tags and never admits a request twice (seeded sweep)', async (t) => {
  const guard = new ReplayGuard(64, 1_000);
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const sent: Array<{ tag: string; timeMs: number }> = [];
  const admitted = new Set<string>();
  let now = NOW;
  let duplicates = 0;
  let fresh = 0;
  for (let i = 0; i < 20_000; i++) {
    now += Math.floor(random() * 3);
    // Half fresh requests (a sender clock up to 200 ms behind), half replays of any earlier one.
    const request = sent.length === 0 || random() < 0.5 ? { tag: `t${i}`, timeMs: now - Math.floor(random() * 200) } : sent[Math.floor(random() * sent.length)]!;
    if (request.tag === `t${i}`) sent.push(request);
    if (guard.admit(request.tag, request.timeMs, now)) {
      if (admitted.has(request.tag)) duplicates++;
      admitted.add(request.tag);
      if (request.tag === `t${i}`) fresh++;
    }
    if (guard.size > 64) {
      t.fail(`size ${guard.size} over the bound at step ${i}`);
      break;
    }
  }
  t.equal(duplicates, 0, 'no request was admitted twice');
  t.ok(fresh > 1_000, `fresh requests were admitted (${fresh})`);
});
