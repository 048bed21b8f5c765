import { createHash, createHmac } from 'node:crypto';
import t, { type Test } from 'tap';
import {
  answerHello,
  AUTH_HEADERS,
  AUTH_SKEW_MS_DEFAULT,
  checkBody,
  checkRequest,
  newEpoch,
  readHelloAnswer,
  ReplayGuard,
  signDeclared,
  signHello,
  signRequest,
  type Receiver,
} from './auth.js';
import { KvError } from '../errors.js';
import { deriveKeys } from '../security/keyring.js';

const KEY = deriveKeys('cluster-secret-1').internal;
const OTHER = deriveKeys('another-secret').internal;
const PATH = '/internal/batch';
const SENDER = 'node-a';
const SELF: Receiver = { id: 'node-b', epoch: 'EpochEpochEpoch0' };
const NOW = 1_700_000_000_000;
const body = Uint8Array.from([1, 2, 0, 255, 0x61, 0x62]);

const NONCE = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The tag exactly as the documented format says (docs/security.md, auth.ts). */
function tagFor(key: Uint8Array, time: string, path: string, sender: string, to: Receiver, bytes: Uint8Array, nonce = NONCE): string {
  const digest = createHash('sha256').update(bytes).digest('base64url');
  return createHmac('sha256', key).update(['ringkv-internal/2', path, sender, to.id, to.epoch, time, nonce, String(bytes.length), digest].join('\n')).digest().toString('base64url');
}

function headersOf(record: Record<string, string>): Headers {
  return new Headers(record);
}

interface VerifyOptions {
  path?: string;
  bytes?: Uint8Array;
  nowMs?: number;
  keys?: readonly Uint8Array[];
  skewMs?: number;
  self?: Receiver;
  /** The Content-Length header; the length of `bytes` by default. */
  contentLength?: string | null;
}

/** What the receiver does: headers first, then the body; returns the sender. */
function verify(record: Record<string, string>, options: VerifyOptions = {}): string {
  const bytes = options.bytes ?? body;
  const length = options.contentLength === undefined ? String(bytes.length) : options.contentLength;
  const claims = checkRequest(headersOf(record), length, options.keys ?? [KEY], options.self ?? SELF, options.path ?? PATH, options.nowMs ?? NOW, options.skewMs);
  checkBody(claims, bytes);
  return claims.sender;
}

const sign = (bytes = body, nowMs = NOW, to = SELF, key = KEY, path = PATH, sender = SENDER) => signRequest(key, sender, to, path, bytes, nowMs);

/** Asserts `fn` throws 401 KV_ERR_UNAUTHORIZED with a message matching `reason`. */
function unauthorized(t: Test, fn: () => unknown, reason: RegExp, what: string, code = 'unauthenticated'): void {
  try {
    const value = fn();
    t.fail(`${what}: accepted (sender ${JSON.stringify(value)})`);
  } catch (error) {
    t.ok(error instanceof KvError && error.code === 'KV_ERR_UNAUTHORIZED' && error.status === 401, `${what}: 401 KV_ERR_UNAUTHORIZED (got ${String(error)})`);
    t.match((error as Error).message, reason, `${what}: for the right reason`);
    t.equal((error as KvError).details.reason, code, `${what}: reason ${code}`);
  }
}

t.test('a signed request verifies and yields the sender; the headers carry time, sender, nonce, receiver, epoch, body digest and tag', async (t) => {
  const headers = sign();
  t.same(Object.keys(headers).sort(), Object.values(AUTH_HEADERS).sort());
  t.equal(headers[AUTH_HEADERS.time], String(NOW));
  t.equal(headers[AUTH_HEADERS.sender], SENDER);
  t.equal(headers[AUTH_HEADERS.receiver], SELF.id);
  t.equal(headers[AUTH_HEADERS.epoch], SELF.epoch);
  t.equal(headers[AUTH_HEADERS.bodyDigest], createHash('sha256').update(body).digest('base64url'));
  const nonce = headers[AUTH_HEADERS.nonce]!;
  t.match(nonce, /^[A-Za-z0-9_-]{22}$/, 'the nonce is 128 random bits in base64url');
  t.equal(headers[AUTH_HEADERS.tag], tagFor(KEY, String(NOW), PATH, SENDER, SELF, body, nonce), 'the tag follows the documented format');
  t.equal(signRequest(KEY, SENDER, SELF, PATH, body, NOW, NONCE)[AUTH_HEADERS.tag], tagFor(KEY, String(NOW), PATH, SENDER, SELF, body), 'a given nonce is signed');
  t.equal(verify(headers), SENDER);
  t.equal(verify(sign(new Uint8Array(0), NOW, SELF, KEY, PATH, 'other.node_9'), { bytes: new Uint8Array(0) }), 'other.node_9', 'an empty body, another sender');
  t.equal(verify(sign(body, NOW + 0.9)), SENDER, 'a fractional clock is floored');
  t.match(newEpoch(), /^[A-Za-z0-9_-]{16}$/, 'an epoch is 96 random bits in base64url');
  t.not(newEpoch(), newEpoch());
});

t.test('keyring: a request signed with any key of the ring verifies (rotation), with no other key', async (t) => {
  t.equal(verify(sign(body, NOW, SELF, OTHER), { keys: [KEY, OTHER] }), SENDER, 'signed with the second key');
  t.equal(verify(sign(body, NOW, SELF, KEY), { keys: [OTHER, KEY] }), SENDER, 'signed with the old primary');
  unauthorized(t, () => verify(sign(body, NOW, SELF, OTHER), { keys: [KEY] }), /bad cluster authentication/, 'a key not in the ring');
  unauthorized(t, () => verify(sign(), { keys: [] }), /bad cluster authentication/, 'an empty ring accepts nothing');
});

t.test('the whole decision comes from the headers: a forged request is refused before its body is looked at', async (t) => {
  const headers = sign();
  const check = (record: Record<string, string>, length: string | null = String(body.length), self = SELF) => checkRequest(headersOf(record), length, [KEY], self, PATH, NOW);
  t.match(check(headers), { sender: SENDER, timeMs: NOW, contentLength: body.length }, 'control: the headers alone pass');
  unauthorized(t, () => check(headers, String(50 * 1024 * 1024)), /bad cluster authentication/, 'the same headers with a 50 MiB Content-Length');
  unauthorized(t, () => check(headers, null), /Content-Length/, 'no Content-Length (chunked)');
  unauthorized(t, () => check(headers, '-1'), /Content-Length/, 'a negative Content-Length');
  unauthorized(t, () => check({ ...headers, [AUTH_HEADERS.bodyDigest]: createHash('sha256').update('other').digest('base64url') }), /bad cluster authentication/, 'another body digest');
  const declared = signDeclared(KEY, SENDER, SELF, PATH, { length: 50 * 1024 * 1024, digest: headers[AUTH_HEADERS.bodyDigest]! }, NOW);
  t.match(check(declared, String(50 * 1024 * 1024)), { contentLength: 50 * 1024 * 1024 }, 'signDeclared signs for a length it never sends');
});

t.test('receiver binding: a request signed for another node or an earlier boot is refused, each with its reason', async (t) => {
  unauthorized(t, () => verify(sign(body, NOW, { ...SELF, id: 'node-c' })), /signed for node node-c/, 'captured on its way to node-c, replayed to node-b', 'misdirected');
  unauthorized(t, () => verify(sign(body, NOW, { ...SELF, epoch: 'OldEpochOldEpoch' })), /earlier boot/, 'captured before node-b restarted', 'stale-epoch');
  unauthorized(t, () => verify({ ...sign(), [AUTH_HEADERS.receiver]: 'node-c' }), /bad cluster authentication/, 'a receiver changed under the tag');
  unauthorized(t, () => verify({ ...sign(), [AUTH_HEADERS.epoch]: 'OldEpochOldEpoch' }), /bad cluster authentication/, 'an epoch changed under the tag');
  unauthorized(t, () => verify(sign(body, NOW, { ...SELF, epoch: 'short' })), /malformed receiver/, 'a malformed epoch');
});

t.test('signatures cover every byte of a large body', async (t) => {
  const large = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
  const headers = sign(large);
  t.equal(verify(headers, { bytes: large }), SENDER);
  const altered = Uint8Array.from(large);
  altered[large.length - 1] = altered[large.length - 1]! ^ 1;
  unauthorized(t, () => verify(headers, { bytes: altered }), /body differs/, 'the last byte flipped');
});

t.test('a missing header is refused', async (t) => {
  const headers = sign();
  for (const name of Object.values(AUTH_HEADERS)) {
    const without = { ...headers };
    delete without[name];
    unauthorized(t, () => verify(without), /missing/, `without ${name}`);
  }
  unauthorized(t, () => verify({}), /missing/, 'without any header');
});

t.test('a wrong secret is refused', async (t) => {
  unauthorized(t, () => verify(sign(body, NOW, SELF, OTHER)), /bad cluster authentication/, 'signed with another secret');
  unauthorized(t, () => verify(sign(), { keys: [OTHER] }), /bad cluster authentication/, 'verified with another secret');
  unauthorized(t, () => verify(sign(body, NOW, SELF, deriveKeys('cluster-secret-1x').internal)), /bad cluster authentication/, 'a secret with one more character');
  unauthorized(t, () => verify(sign(body, NOW, SELF, deriveKeys('cluster-secret-1').context)), /bad cluster authentication/, 'the context key of the right secret (keys are per purpose)');
});

t.test('a signature for another path is refused', async (t) => {
  unauthorized(t, () => verify(sign(body, NOW, SELF, KEY, '/internal/coordinate')), /bad cluster authentication/, 'coordinate signature on batch');
  unauthorized(t, () => verify(sign(), { path: '/internal/members' }), /bad cluster authentication/, 'batch signature on members');
});

t.test('a changed sender is refused', async (t) => {
  unauthorized(t, () => verify({ ...sign(), [AUTH_HEADERS.sender]: 'node-evil' }), /bad cluster authentication/, 'sender replaced');
  unauthorized(t, () => verify({ ...sign(), [AUTH_HEADERS.sender]: 'node-' }), /bad cluster authentication/, 'sender shortened to a prefix');
});

t.test('an altered body is refused', async (t) => {
  const headers = sign();
  for (let i = 0; i < body.length; i++) {
    const altered = Uint8Array.from(body);
    altered[i] = altered[i]! ^ 0x01;
    unauthorized(t, () => verify(headers, { bytes: altered }), /body differs/, `byte ${i} flipped`);
  }
  unauthorized(t, () => verify(headers, { bytes: body.subarray(0, body.length - 1), contentLength: String(body.length) }), /length differs/, 'one byte shorter than signed');
  unauthorized(t, () => verify(headers, { bytes: body.subarray(0, body.length - 1) }), /bad cluster authentication/, 'one byte shorter, and a Content-Length that says so');
  unauthorized(t, () => verify(headers, { bytes: new Uint8Array(0), contentLength: String(body.length) }), /length differs/, 'empty');
});

t.test('a tampered or malformed tag is refused without throwing anything else', async (t) => {
  const headers = sign();
  const tag = headers[AUTH_HEADERS.tag]!;
  const flipped = (tag[0] === 'A' ? 'B' : 'A') + tag.slice(1);
  for (const [what, value] of [
    ['first character changed', flipped],
    ['truncated', tag.slice(0, 20)],
    ['extended', tag + 'AAAA'],
    ['empty', ''],
    ['not base64', '!!!!'],
    ['hex instead of base64url', Buffer.from(tag, 'base64url').toString('hex')],
    ['the two spare bits flipped (same 32 bytes, non-canonical)', tag.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(tag.at(-1)!) ^ 1]],
  ] as const) {
    unauthorized(t, () => verify({ ...headers, [AUTH_HEADERS.tag]: value }), /bad cluster authentication/, `tag ${what}`);
  }
});

t.test(`a time outside the skew window (default ${AUTH_SKEW_MS_DEFAULT} ms) is refused, in both directions`, async (t) => {
  const at = (offsetMs: number) => sign(body, NOW + offsetMs);
  t.equal(verify(at(-AUTH_SKEW_MS_DEFAULT)), SENDER, 'exactly the skew in the past is accepted');
  t.equal(verify(at(AUTH_SKEW_MS_DEFAULT)), SENDER, 'exactly the skew in the future is accepted');
  unauthorized(t, () => verify(at(-AUTH_SKEW_MS_DEFAULT - 1)), /window/, 'one ms too old', 'stale-time');
  unauthorized(t, () => verify(at(AUTH_SKEW_MS_DEFAULT + 1)), /window/, 'one ms too far in the future', 'stale-time');
  unauthorized(t, () => verify(at(-24 * 3600_000)), /window/, 'a day old (a replay)', 'stale-time');
  unauthorized(t, () => verify(sign(body, 0)), /window/, 'time 0', 'stale-time');
  t.equal(verify(at(-500), { skewMs: 500 }), SENDER, 'within a custom 500 ms skew');
  unauthorized(t, () => verify(at(-501), { skewMs: 500 }), /window/, 'past a custom 500 ms skew (old)', 'stale-time');
  unauthorized(t, () => verify(at(501), { skewMs: 500 }), /window/, 'past a custom 500 ms skew (future)', 'stale-time');
});

t.test('a time that is not a plain decimal integer is refused even with a valid tag over it', async (t) => {
  const cases = ['abc', '', ' 1700000000000', '1700000000000 ', '1700000000000.5', '-1700000000000', '+1700000000000', '1.7e12', '0x18BCFE56800', 'NaN', 'Infinity', '12345678901234567'];
  for (const time of cases) {
    const headers = { ...sign(), [AUTH_HEADERS.time]: time, [AUTH_HEADERS.nonce]: NONCE, [AUTH_HEADERS.tag]: tagFor(KEY, time, PATH, SENDER, SELF, body) };
    unauthorized(t, () => verify(headers, { nowMs: Number.isFinite(Number(time)) ? Number(time) : NOW }), /window|bad cluster authentication/, `time ${JSON.stringify(time)}`);
  }
  const valid = { ...sign(), [AUTH_HEADERS.nonce]: NONCE, [AUTH_HEADERS.tag]: tagFor(KEY, String(NOW), PATH, SENDER, SELF, body) };
  t.equal(verify(valid), SENDER, 'control: the same construction with a decimal time verifies');
});

t.test('nonce: two signatures of the same request at the same millisecond differ, so the replay guard never refuses an honest repeat', async (t) => {
  const first = sign();
  const second = sign();
  t.not(first[AUTH_HEADERS.nonce], second[AUTH_HEADERS.nonce], 'fresh nonces');
  t.not(first[AUTH_HEADERS.tag], second[AUTH_HEADERS.tag], 'hence distinct tags');
  const guard = new ReplayGuard(16);
  t.ok(guard.admit(first[AUTH_HEADERS.tag]!, NOW, NOW), 'the first is admitted');
  t.ok(guard.admit(second[AUTH_HEADERS.tag]!, NOW, NOW), 'and so is the identical second request');
  unauthorized(t, () => verify({ ...first, [AUTH_HEADERS.nonce]: second[AUTH_HEADERS.nonce]! }), /bad cluster authentication/, 'a nonce swapped under a valid tag');
});

t.test('malformed sender, nonce or tag are refused from the headers alone', async (t) => {
  const headers = sign();
  for (const sender of ['', 'node a', 'n'.repeat(65), 'node/a', 'nöde']) {
    unauthorized(t, () => verify({ ...headers, [AUTH_HEADERS.sender]: sender }), /malformed sender|missing/, `sender ${JSON.stringify(sender)}`);
  }
  for (const nonce of ['', 'short', 'A'.repeat(65), 'AAAAAAAAAAAAAAAAAAAA+/', 'AAAAAAAAAAAAAAAAAAAAAA==']) {
    unauthorized(t, () => verify({ ...headers, [AUTH_HEADERS.nonce]: nonce }), /malformed nonce|missing/, `nonce ${JSON.stringify(nonce)}`);
  }
});

t.test('hello: an authenticated question gets the node id and boot epoch, tagged over the question nonce', async (t) => {
  const nonce = 'HelloNonceHelloNonce00';
  const hello = signHello(KEY, SENDER, NOW, nonce);
  const answer = answerHello(headersOf(hello), [OTHER, KEY], SELF, NOW);
  t.equal(answer.node, SELF.id);
  t.equal(answer.epoch, SELF.epoch);
  t.same(readHelloAnswer(answer, [KEY], nonce), { ...SELF, timeMs: NOW }, 'the sender reads it with its key');
  t.equal(readHelloAnswer(answer, [KEY], 'AnotherNonceAnother000'), undefined, 'an answer to another hello (a replayed answer) is refused');
  t.equal(readHelloAnswer(answer, [OTHER], nonce), undefined, 'answered under the key that verified the hello');
  t.equal(readHelloAnswer({ ...answer, epoch: 'OtherEpochOther0' }, [KEY], nonce), undefined, 'a changed epoch is refused');
  t.equal(readHelloAnswer({ ...answer, node: 'node-c' }, [KEY], nonce), undefined, 'a changed node is refused');
  for (const bad of [null, 42, 'x', [], {}, { node: 1, epoch: 2, tag: 3 }]) t.equal(readHelloAnswer(bad, [KEY], nonce), undefined, `malformed answer ${JSON.stringify(bad)}`);
  unauthorized(t, () => answerHello(headersOf(signHello(OTHER, SENDER, NOW)), [KEY], SELF, NOW), /bad cluster authentication/, 'a hello with another secret');
  const late = answerHello(headersOf(signHello(KEY, SENDER, NOW - 10 * 60_000, nonce)), [KEY], SELF, NOW);
  t.match(readHelloAnswer(late, [KEY], nonce), { ...SELF, timeMs: NOW }, 'issue 16.5: a hello from a clock 10 minutes off is answered (it changes nothing) with the receiver time, tagged');
  t.equal(readHelloAnswer({ ...late, time: String(NOW + 1) }, [KEY], nonce), undefined, 'a changed time is refused');
  unauthorized(t, () => answerHello(headersOf({}), [KEY], SELF, NOW), /missing/, 'no credentials');
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
