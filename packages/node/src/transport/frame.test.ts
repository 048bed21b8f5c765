import t from 'tap';
import { encodeFrameHeader, FRAME_HEADER_BYTES, FRAME_TYPES, FrameError, FrameReader, type Frame } from './frame.js';
import { Backoff } from './backoff.js';
import { ChallengeTable, checkAccept, checkDial, signDial, type DialClaims } from './stream-auth.js';
import { KvError } from '../errors.js';

const LIMIT = 1024;
/** A request-side reader: the three request types, bodies up to LIMIT. */
const requestReader = () => new FrameReader((type) => ([FRAME_TYPES.batch, FRAME_TYPES.coordinate, FRAME_TYPES.tree] as number[]).includes(type) ? LIMIT : undefined);

function frame(type: number, id: number, budgetMs: number, body: Buffer): Buffer {
  return Buffer.concat([encodeFrameHeader(type as never, id, budgetMs, body.length), body]);
}

function drain(reader: FrameReader): Frame[] {
  const out: Frame[] = [];
  for (let f = reader.next(); f !== undefined; f = reader.next()) out.push(f);
  return out;
}

t.test('frames round-trip whole, split at every byte, and packed several to a chunk', async (t) => {
  const bytes = Buffer.concat([frame(FRAME_TYPES.batch, 1, 250, Buffer.from('hello')), frame(FRAME_TYPES.tree, 2, 0, Buffer.alloc(0)), frame(FRAME_TYPES.coordinate, 7, 4_000_000_000, Buffer.alloc(300, 9))]);
  const whole = requestReader();
  whole.push(bytes);
  const frames = drain(whole);
  t.same(
    frames.map((f) => [f.type, f.requestId, f.budgetMs, f.body.length]),
    [
      [FRAME_TYPES.batch, 1, 250, 5],
      [FRAME_TYPES.tree, 2, 0, 0],
      [FRAME_TYPES.coordinate, 7, 4_000_000_000, 300],
    ],
  );
  t.equal(Buffer.from(frames[0]!.body).toString(), 'hello');
  t.equal(whole.consumed, bytes.length, 'every byte consumed');
  t.notOk(whole.partial);
  const split = requestReader();
  const seen: Frame[] = [];
  for (const byte of bytes) {
    split.push(Buffer.from([byte]));
    seen.push(...drain(split));
  }
  t.same(seen.map((f) => [f.type, f.requestId, Buffer.from(f.body).toString('hex')]), frames.map((f) => [f.type, f.requestId, Buffer.from(f.body).toString('hex')]), 'byte by byte gives the same frames');
});

t.test('a header is judged before its body is buffered: oversize, unknown type, flags, each after 16 bytes', async (t) => {
  const cases: Array<[string, Buffer, string]> = [
    ['oversize', encodeFrameHeader(FRAME_TYPES.batch, 1, 10, LIMIT + 1), 'oversize-frame'],
    ['4 GiB claimed', Buffer.from('ffffffff010000000000000100000010', 'hex'), 'oversize-frame'],
    ['an answer type sent to the acceptor', encodeFrameHeader(FRAME_TYPES.batchResult, 1, 0, 4), 'unknown-type'],
    ['an unknown type', Buffer.from('00000004420000000000000100000010', 'hex'), 'unknown-type'],
    ['nonzero flags', Buffer.from('00000004010100000000000100000010', 'hex'), 'malformed-header'],
    ['nonzero reserved bits', Buffer.from('00000004010000010000000100000010', 'hex'), 'malformed-header'],
  ];
  for (const [what, header, reason] of cases) {
    const reader = requestReader();
    reader.push(Buffer.concat([header, Buffer.alloc(4096, 0xab)]));
    const error = (() => {
      try {
        reader.next();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    t.ok(error instanceof FrameError && error instanceof KvError, `${what}: a FrameError`);
    t.equal((error as FrameError).reason, reason, `${what}: ${reason}`);
    t.equal((error as FrameError).code, 'KV_ERR_PEER_PROTOCOL');
    t.equal(reader.consumed, FRAME_HEADER_BYTES, `${what}: 16 bytes consumed, no body`);
  }
});

t.test('fewer than 16 bytes is no frame yet; a header with its body missing is partial', async (t) => {
  const reader = requestReader();
  reader.push(Buffer.alloc(15));
  t.equal(reader.next(), undefined);
  t.equal(reader.consumed, 0);
  const other = requestReader();
  other.push(frame(FRAME_TYPES.batch, 1, 10, Buffer.alloc(100)).subarray(0, 50));
  t.equal(other.next(), undefined);
  t.ok(other.partial);
  t.equal(other.consumed, 16, 'the header only');
});

t.test('backoff: exponential with equal jitter, capped, reset on success', async (t) => {
  const low = new Backoff(() => 0, 50, 1_000);
  t.same([low.fail(), low.fail(), low.fail(), low.fail(), low.fail(), low.fail()], [25, 50, 100, 200, 400, 500], 'at least half the ceiling, ceiling doubling to the cap');
  const high = new Backoff(() => 0.999999, 50, 1_000);
  const delays = Array.from({ length: 8 }, () => high.fail());
  t.ok(delays.every((d, i) => d <= Math.min(1_000, 50 * 2 ** i) && d > Math.min(1_000, 50 * 2 ** i) * 0.99), 'at most the ceiling');
  t.equal(high.attempts, 8);
  high.reset();
  t.equal(high.attempts, 0);
  t.ok(high.fail() <= 50, 'after a reset it starts again from the base');
});

t.test('challenges: single use, bound to their sender, forgotten after the TTL, bounded in count', async (t) => {
  let now = 1_000;
  let n = 0;
  const table = new ChallengeTable(() => now, () => `challenge-${String(n++).padStart(8, '0')}`, 10_000, 3);
  const a = table.issue('node-a');
  t.notOk(table.take(a, 'node-b'), 'not for another sender');
  t.ok(table.take(a, 'node-a'), 'taken once');
  t.notOk(table.take(a, 'node-a'), 'never twice');
  const b = table.issue('node-a');
  now += 10_001;
  t.notOk(table.take(b, 'node-a'), 'expired');
  const issued = [table.issue('x'), table.issue('x'), table.issue('x'), table.issue('x')];
  t.equal(table.size, 3, 'bounded');
  t.notOk(table.take(issued[0]!, 'x'), 'the oldest was forgotten');
  t.ok(table.take(issued[3]!, 'x'));
});

t.test('dial and accept tags: any key of the keyring verifies; the accept answers only its own nonce', async (t) => {
  const oldKey = Buffer.alloc(32, 1);
  const newKey = Buffer.alloc(32, 2);
  const self = { id: 'node-b', epoch: 'AAAAAAAAAAAAAAAA' };
  const table = new ChallengeTable(() => 0, () => 'challenge-challenge-1');
  const challenge = table.issue('node-a');
  const claims: DialClaims = { sender: 'node-a', to: self, challenge, nonce: 'nonce-nonce-nonce-1' };
  const headers = signDial(newKey, claims);
  const source = { get: (name: string) => headers[name] ?? null };
  // The receiver is mid-rotation: old key primary, new key second.
  const { acceptTag } = checkDial(source, [oldKey, newKey], self, table, () => false);
  t.ok(checkAccept(acceptTag, [newKey], claims), 'the accept is tagged with the key that verified the dial');
  t.notOk(checkAccept(acceptTag, [newKey], { ...claims, nonce: 'nonce-nonce-nonce-2' }), 'and is worthless for another nonce');
  t.throws(() => checkDial(source, [oldKey, newKey], self, table, () => false), { code: 'KV_ERR_UNAUTHORIZED', details: { reason: 'replayed' } } as object as Error, 'the challenge is used up');
  t.throws(() => checkDial(source, [oldKey], self, table, () => false), { name: 'KvError', details: { reason: 'unauthenticated' } } as object as Error, 'a keyring without the key refuses it');
  t.throws(() => checkDial(source, [newKey], { ...self, id: 'node-c' }, table, () => false), { name: 'KvError', details: { reason: 'misdirected' } } as object as Error);
  t.throws(() => checkDial(source, [newKey], { ...self, epoch: 'BBBBBBBBBBBBBBBB' }, table, () => false), { name: 'KvError', details: { reason: 'stale-epoch' } } as object as Error);
  const fresh = table.issue('node-a');
  const again = signDial(newKey, { ...claims, challenge: fresh });
  t.throws(() => checkDial({ get: (name) => again[name] ?? null }, [newKey], self, table, (id) => id === 'node-a'), { code: 'KV_ERR_FORBIDDEN', details: { reason: 'removed' } } as object as Error, 'a removed sender');
});
