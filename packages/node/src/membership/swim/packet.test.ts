import t from 'tap';
import fc from 'fast-check';
import { decodePacket, encodePacket, isGossipAddress, isHttpAddress, PACKET_HEADER_BYTES, ReplayWindow, validateMessage } from './packet.js';
import { deriveKeys } from '../../security/keyring.js';
import type { SwimMessage } from './types.js';

const KEY = deriveKeys('gossip-secret-1').gossip;
const OLD = deriveKeys('gossip-secret-0').gossip;
const NOW = 1_700_000_000_000;
const WINDOW = 30_000;
const SIZE = 1_400 + PACKET_HEADER_BYTES + 512;
const ping: SwimMessage = { type: 'ping', seq: 7, from: 'node-a', target: 'node-b', updates: [{ kind: 'alive', id: 'node-c', incarnation: 3, gossipAddress: '127.0.0.1:7946', httpAddress: 'http://127.0.0.1:7070' }] };

const decode = (packet: Uint8Array, options: { keys?: Uint8Array[]; nowMs?: number; self?: string; replay?: ReplayWindow } = {}) =>
  decodePacket(options.keys ?? [KEY], packet, options.nowMs ?? NOW, SIZE, options.replay ?? new ReplayWindow(WINDOW), WINDOW, options.self ?? 'node-b');

t.test('a packet round-trips, encrypted: the JSON is not on the wire', async (t) => {
  const packet = encodePacket(KEY, ping, NOW, 'node-b');
  t.same(decode(packet), { ok: true, message: ping, bound: true, timeMs: NOW }, 'with the sender time (clock-skew samples)');
  t.equal(packet.indexOf(Buffer.from('node-c')), -1, 'member ids do not appear in clear');
  t.equal(packet.indexOf(Buffer.from('127.0.0.1')), -1, 'nor addresses');
  t.equal(packet[0], 2, 'wire version 2');
  t.equal(packet.length, JSON.stringify(ping).length + PACKET_HEADER_BYTES, 'overhead: PACKET_HEADER_BYTES');
  t.same(decode(encodePacket(KEY, ping, NOW)), { ok: true, message: ping, bound: false, timeMs: NOW }, 'an unbound packet (join) is accepted too');
});

t.test('bound to its receiver: another member cannot authenticate it', async (t) => {
  const packet = encodePacket(KEY, ping, NOW, 'node-b');
  t.same(decode(packet, { self: 'node-x' }), { ok: false, reason: 'unauthenticated' }, 'captured for node-b, replayed to node-x');
  const flipped = Buffer.from(packet);
  flipped[1] = 0; // claim it is unbound
  t.same(decode(flipped), { ok: false, reason: 'unauthenticated' }, 'the bound flag is authenticated');
});

t.test('keyring: every key is tried; only keys in the ring open a packet', async (t) => {
  t.same(decode(encodePacket(OLD, ping, NOW, 'node-b'), { keys: [KEY, OLD] }), { ok: true, message: ping, bound: true, timeMs: NOW }, 'sent under the old key during a rotation');
  t.same(decode(encodePacket(OLD, ping, NOW, 'node-b'), { keys: [KEY] }), { ok: false, reason: 'unauthenticated' }, 'once the old key is dropped');
  t.same(decode(encodePacket(deriveKeys('gossip-secret-1').internal, ping, NOW, 'node-b')), { ok: false, reason: 'unauthenticated' }, 'the internal key of the same secret does not open gossip');
});

t.test('every altered byte is unauthenticated; stale, replayed and oversize packets are dropped with their reason', async (t) => {
  const packet = encodePacket(KEY, ping, NOW, 'node-b');
  for (let i = 0; i < packet.length; i++) {
    const damaged = Buffer.from(packet);
    damaged[i] = damaged[i]! ^ 0x10;
    const result = decode(damaged);
    if (result.ok || result.reason !== 'unauthenticated') t.fail(`byte ${i}: ${JSON.stringify(result)}`);
  }
  t.pass(`${packet.length} single-byte alterations refused`);
  t.same(decode(encodePacket(KEY, ping, NOW - WINDOW - 1, 'node-b')), { ok: false, reason: 'stale' });
  t.same(decode(encodePacket(KEY, ping, NOW + WINDOW + 1, 'node-b')), { ok: false, reason: 'stale' });
  const replay = new ReplayWindow(WINDOW);
  t.ok(decode(packet, { replay }).ok);
  t.same(decode(packet, { replay }), { ok: false, reason: 'replayed' });
  t.same(decode(Buffer.alloc(SIZE + 1)), { ok: false, reason: 'oversize' });
  t.same(decode(packet.subarray(0, PACKET_HEADER_BYTES)), { ok: false, reason: 'unauthenticated' }, 'too short');
  t.same(decode(encodePacket(KEY, { type: 'gossip', from: 'x', updates: 'nope' } as never, NOW, 'node-b')), { ok: false, reason: 'malformed' }, 'authentic but not a message');
});

t.test('addresses are validated: a malformed address in an authentic message makes it malformed (regression: udp.send threw outside any handler)', async (t) => {
  for (const good of ['127.0.0.1:7946', 'node-1.example.com:1', 'localhost:65535', '[::1]:7946', '[fe80::1%25]:1'.replace('%25', '')]) t.ok(isGossipAddress(good), good);
  for (const bad of ['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:99999', '127.0.0.1', ':7946', '127.0.0.1:-1', '127.0.0.1:7946 ', 'a b:1', '::1:7946', 'host:7946/x', '', 'x'.repeat(300) + ':1', 'host:1e3']) {
    t.notOk(isGossipAddress(bad), JSON.stringify(bad));
  }
  t.ok(isHttpAddress('http://127.0.0.1:7070'));
  t.ok(isHttpAddress('https://[::1]:443'));
  for (const bad of ['127.0.0.1:7070', 'http://127.0.0.1', 'http://127.0.0.1:0', 'http://h:1/path', 'ftp://h:1', 'javascript:alert(1)']) t.notOk(isHttpAddress(bad), bad);
  const alive = (gossipAddress: string, httpAddress = 'http://127.0.0.1:1') => ({ type: 'gossip', from: 'evil', updates: [{ kind: 'alive', id: 'zombie', incarnation: 1, gossipAddress, httpAddress }] });
  t.equal(validateMessage(alive('127.0.0.1:99999')), undefined, 'an alive update with port 99999');
  t.equal(validateMessage(alive('127.0.0.1:1', 'not a url')), undefined, 'an alive update with a bad http address');
  t.equal(validateMessage({ type: 'ping-req', seq: 1, from: 'evil', target: 'node-b', targetAddress: 'nowhere', updates: [] }), undefined, 'a ping-req with a bad target address');
  t.equal(validateMessage({ type: 'ping', seq: 1, from: 'evil', target: 'bad id!', updates: [] }), undefined, 'a ping with a bad target id');
  t.ok(validateMessage(alive('127.0.0.1:1')), 'control: a valid alive update');
});

t.test('random bytes and random JSON never throw (property)', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2_000 }), (bytes) => decode(bytes).ok === false), { numRuns: 2_000, seed: 18 });
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      validateMessage(value);
      const result = decode(encodePacket(KEY, value as unknown as SwimMessage, NOW, 'node-b'));
      return result.ok || result.reason === 'malformed';
    }),
    { numRuns: 2_000, seed: 19 },
  );
  t.pass('4000 random inputs');
});

t.test('zones: an alive update may carry a valid zone; without one (older versions) it still decodes; a bad zone makes the message malformed', async (t) => {
  const update = { kind: 'alive', id: 'node-c', incarnation: 3, gossipAddress: 'db-1.ring.svc:7946', httpAddress: 'http://[fd00::3]:7070' };
  const gossip = (extra: Record<string, unknown>) => ({ type: 'gossip', from: 'node-a', updates: [{ ...update, ...extra }] });
  t.ok(validateMessage(gossip({})), 'no zone: a member without --zone, or a node from before zones');
  t.ok(validateMessage(gossip({ zone: 'eu-west-1a' })), 'a zone');
  t.ok(validateMessage(gossip({ zone: 'z'.repeat(63) })), 'a zone of 63 characters');
  const withZone = gossip({ zone: 'rack.12' }) as SwimMessage;
  t.same(decode(encodePacket(KEY, withZone, NOW, 'node-b')), { ok: true, message: withZone, bound: true, timeMs: NOW }, 'round-trips through a packet');
  for (const bad of ['', 'z'.repeat(64), '-leading', 'has space', 'ünï', 7, null, ['a'], { a: 1 }]) {
    t.equal(validateMessage(gossip({ zone: bad })), undefined, `zone ${JSON.stringify(bad)}`);
    t.same(decode(encodePacket(KEY, gossip({ zone: bad }) as unknown as SwimMessage, NOW, 'node-b')), { ok: false, reason: 'malformed' }, `zone ${JSON.stringify(bad)} in a packet: dropped, not thrown`);
  }
});
