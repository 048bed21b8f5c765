/**
 * The Transport contract (packages/node/src/transport/transport.ts), run over every
 * implementation by test/transport-contract.test.ts. `makePair` sets up two nodes, A and B, each
 * with a real PeerHandler (a ReplicaService over a MemoryStore, with a coordinator) and returns
 * A's Transport, B as a member, B's store and two switches: `stop()` makes B unreachable from A,
 * `close()` releases everything the pair holds. Each test gets a fresh pair and closes it.
 *
 * Both nodes must be built with `PAIR_LIMITS` (A's per-peer queue limits, B's versioning limits)
 * and must know each other as members of a ring with N = 2, so B coordinates a forwarded request
 * itself (it is in every key's preference list).
 */
import type { Test } from 'tap';
import { plain, rejectsWith } from '../helpers/compare.js';
import { KvError, type Member, type NodeParts, type Store } from '@ringkv/node';
import { contextOf, update, type ReplicaResult, type VersionedObject, type VersioningLimits } from '@ringkv/node/testing';

/** A node's Transport (the interface is not exported by itself). */
export type Transport = NonNullable<NodeParts['transport']>;

/** The limits both nodes of a pair are built with. */
export const PAIR_LIMITS = {
  batchOpsMax: 8,
  inflightMax: 4,
  queueOpsMax: 10_000,
  siblingsMax: 4,
  clockEntriesMax: 8,
  n: 2,
} as const;

export interface TransportPair {
  /** Node A's transport: the one under test. */
  readonly transport: Transport;
  /** Node B as A knows it. */
  readonly peerB: Member;
  /** B's store, to seed and inspect B's replicas directly. */
  readonly storeB: Store;
  /** Cuts B off: from now on nothing A sends reaches B. */
  stop(): Promise<void>;
  /** The compare-and-set layout B's ring has (replication/cas-layout.ts); 0 for a bare replica service. */
  readonly casLayout?: number;
  /** Releases both nodes; idempotent, also after `stop()` and after the transport was closed. */
  close(): Promise<void>;
}

export type MakePair = (t: Test) => Promise<TransportPair>;

const limits: VersioningLimits = { siblingsMax: PAIR_LIMITS.siblingsMax, clockEntriesMax: PAIR_LIMITS.clockEntriesMax };
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const UNREACHABLE = ['KV_ERR_PEER_UNREACHABLE', 'KV_ERR_TIMEOUT'];

/** Matches the dot ids a node coordinates under: its id, alone or followed by `~epoch`. */
function ownDot(nodeId: string): RegExp {
  return new RegExp(`^${nodeId.replace(/[.]/g, '\\.')}(~[A-Za-z0-9_-]+)?$`);
}


/** The live values of an object, sorted (tombstones as <deleted>). */
function values(object: VersionedObject | undefined): string[] | undefined {
  return object?.siblings.map((s) => (s.deleted ? '<deleted>' : text(s.value))).sort();
}

/** One blind write of `value` through the real versioning core. */
function written(value: string, coordinatorId = 'node-x', nowMs = 1_000, base?: VersionedObject): VersionedObject {
  return update(base, { coordinatorId, context: base === undefined ? [] : contextOf(base), deleted: false, value: utf8(value), contentType: 'text/plain', nowMs }, limits);
}

/** Three coordinators; siblings: all 256 byte values, a UTF-8 text, and a tombstone. */
function richObject(): VersionedObject {
  let o = update(undefined, { coordinatorId: 'node-b', context: [], deleted: false, value: utf8('first'), contentType: 'text/plain', nowMs: 1_700_000_000_000 }, limits);
  const seenFirst = contextOf(o);
  o = update(o, { coordinatorId: 'node-a', context: [], deleted: false, value: allBytes, contentType: 'application/octet-stream', nowMs: 1_700_000_000_001 }, limits);
  o = update(o, { coordinatorId: 'node-b', context: [], deleted: false, value: utf8('héllo ✓ 𝄞'), contentType: 'text/plain; charset=utf-8', nowMs: 1_700_000_000_002 }, limits);
  o = update(o, { coordinatorId: 'node.c_9', context: seenFirst, deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 1_700_000_000_003 }, limits);
  return o;
}


function okObject(t: Test, result: ReplicaResult | undefined, what: string): VersionedObject | undefined {
  t.equal(result?.ok, true, `${what}: ok`);
  return result?.ok === true ? result.object : undefined;
}

export function transportContract(t: Test, name: string, makePair: MakePair): Promise<unknown> {
  return t.test(`Transport contract: ${name}`, async (t) => {
    const fresh = async (t: Test): Promise<TransportPair> => {
      const pair = await makePair(t);
      t.teardown(() => pair.close());
      return pair;
    };

    t.test('a put op then a get op to B round-trip the object exactly (clock, siblings, tombstone, binary values)', async (t) => {
      const { transport, peerB, storeB } = await fresh(t);
      const object = richObject();
      t.equal(object.siblings.length, 3, 'fixture: three siblings, one a tombstone');
      const put = await transport.replica(peerB, { kind: 'put', key: 'rich ✓/key', object });
      t.same(put, { ok: true }, 'the put is acknowledged, without an object');
      t.strictSame(plain(storeB.get('rich ✓/key')), plain(object), 'B holds exactly the object sent');
      const got = okObject(t, await transport.replica(peerB, { kind: 'get', key: 'rich ✓/key' }), 'get');
      t.strictSame(plain(got), plain(object), 'the get returns it exactly');
      for (const sibling of got?.siblings ?? []) t.ok(sibling.value instanceof Uint8Array, `sibling ${sibling.dot.id}: value is a Uint8Array`);
      t.same([...(got?.siblings.find((s) => s.dot.id === 'node-a')?.value ?? [])], [...allBytes], 'every byte value survives');
    });

    t.test('a put merges into what B holds: concurrent siblings are kept, stale and repeated puts lose nothing', async (t) => {
      const { transport, peerB, storeB } = await fresh(t);
      const base = written('base', 'node-x', 1_000);
      const held = written('from-b', 'node-b', 2_000, base); // B's write, built on base
      const incoming = written('from-a', 'node-a', 3_000, base); // A's write, concurrent with B's
      await storeB.put('k', held);
      t.same(await transport.replica(peerB, { kind: 'put', key: 'k', object: incoming }), { ok: true });
      t.same(values(storeB.get('k')), ['from-a', 'from-b'], 'both concurrent writes are siblings on B');
      const merged = storeB.get('k')!;
      for (const sibling of merged.siblings) {
        t.ok(merged.clock.some((e) => e.id === sibling.dot.id && e.counter >= sibling.dot.counter), `the clock covers ${sibling.dot.id}'s dot`);
      }
      t.same(await transport.replica(peerB, { kind: 'put', key: 'k', object: base }), { ok: true }, 'a stale put is acknowledged');
      t.same(values(storeB.get('k')), ['from-a', 'from-b'], 'and superseded base does not come back, nothing is lost');
      t.same(await transport.replica(peerB, { kind: 'put', key: 'k', object: incoming }), { ok: true }, 'a repeated put is acknowledged');
      t.strictSame(plain(storeB.get('k')), plain(merged), 'and changes nothing');
      const got = okObject(t, await transport.replica(peerB, { kind: 'get', key: 'k' }), 'get');
      t.same(values(got), ['from-a', 'from-b'], 'a get returns both siblings');
      const resolved = written('resolved', 'node-a', 4_000, merged);
      t.same(await transport.replica(peerB, { kind: 'put', key: 'k', object: resolved }), { ok: true });
      t.same(values(storeB.get('k')), ['resolved'], 'a write that saw both siblings replaces them');
    });

    t.test('ops issued in one turn to one peer travel in one batch; results come back per op and in order', async (t) => {
      const { transport, peerB, storeB } = await fresh(t);
      const one = written('one', 'node-b', 10);
      const two = written('two', 'node-b', 20);
      const three = written('three', 'node-a', 30);
      await Promise.all([storeB.put('one', one), storeB.put('two', two)]);
      const before = transport.stats();
      const pending = [
        transport.replica(peerB, { kind: 'get', key: 'two' }),
        transport.replica(peerB, { kind: 'get', key: 'missing' }),
        transport.replica(peerB, { kind: 'get', key: 'one' }),
        transport.replica(peerB, { kind: 'put', key: 'three', object: three }),
        transport.replica(peerB, { kind: 'get', key: 'also-missing' }),
      ];
      t.equal(transport.stats().opsSent, before.opsSent, 'nothing is sent while the turn runs');
      const results = await Promise.all(pending);
      const after = transport.stats();
      t.equal(after.batchesSent, before.batchesSent + 1, 'exactly one batch');
      t.equal(after.opsSent, before.opsSent + 5, 'carrying the 5 ops');
      t.equal(after.batchesFailed, before.batchesFailed, 'no batch failed');
      t.strictSame(plain(okObject(t, results[0], 'get two')), plain(two), 'result 0 is the object of "two"');
      t.same(results[1], { ok: true }, 'result 1: a missing key is ok, without an object');
      t.notOk(results[1]?.ok === true && 'object' in results[1] && results[1].object !== undefined, 'result 1 carries no object');
      t.strictSame(plain(okObject(t, results[2], 'get one')), plain(one), 'result 2 is the object of "one"');
      t.same(results[3], { ok: true }, 'result 3: the put is acknowledged');
      t.same(results[4], { ok: true }, 'result 4: missing, no object');
      t.strictSame(plain(storeB.get('three')), plain(three), 'the put reached B');
    });

    t.test(`more ops than batchOpsMax (${PAIR_LIMITS.batchOpsMax}) in one turn are split into full batches, every op answered`, async (t) => {
      const { transport, peerB, storeB } = await fresh(t);
      const count = 2 * PAIR_LIMITS.batchOpsMax + 3;
      const before = transport.stats();
      const results = await Promise.all(
        Array.from({ length: count }, (_, i) => transport.replica(peerB, { kind: 'put', key: `bulk-${i}`, object: written(`v${i}`, 'node-a', 100 + i) })),
      );
      const after = transport.stats();
      t.equal(after.batchesSent, before.batchesSent + 3, `${count} ops in 3 batches`);
      t.equal(after.opsSent, before.opsSent + count);
      t.equal(after.batchesFailed, before.batchesFailed);
      t.ok(results.every((r) => r.ok), 'every op acknowledged');
      const stored = Array.from({ length: count }, (_, i) => values(storeB.get(`bulk-${i}`))?.[0]);
      t.same(stored, Array.from({ length: count }, (_, i) => `v${i}`), 'every put reached B under its own key');
      const gets = await Promise.all(Array.from({ length: count }, (_, i) => transport.replica(peerB, { kind: 'get', key: `bulk-${i}` })));
      t.same(
        gets.map((r) => values(r.ok ? r.object : undefined)?.[0]),
        Array.from({ length: count }, (_, i) => `v${i}`),
        'split batches still answer each get with its own key',
      );
      t.equal(transport.stats().batchesSent, after.batchesSent + 3);
    });

    t.test('an op that fails on B fails alone: its error result comes back beside the others', async (t) => {
      const { transport, peerB, storeB } = await fresh(t);
      const one = written('one', 'node-b', 10);
      await storeB.put('one', one);
      await storeB.close(); // B's store now refuses writes (KV_ERR_SHUTTING_DOWN) but still serves reads
      const before = transport.stats();
      const [get, put] = await Promise.all([
        transport.replica(peerB, { kind: 'get', key: 'one' }),
        transport.replica(peerB, { kind: 'put', key: 'two', object: written('two') }),
      ]);
      t.strictSame(plain(okObject(t, get, 'the get')), plain(one), 'the get in the same batch succeeds');
      t.equal(put?.ok, false, 'the put fails');
      t.equal(put?.ok === false ? put.code : undefined, 'KV_ERR_SHUTTING_DOWN', "with the replica's error code");
      t.ok(put?.ok === false && typeof put.message === 'string' && put.message.length > 0, 'and a message');
      t.equal(transport.stats().batchesFailed, before.batchesFailed, 'the batch itself did not fail');
      t.equal(transport.stats().batchesSent, before.batchesSent + 1);
    });

    t.test('ops to an unreachable peer reject with PEER_UNREACHABLE (or TIMEOUT) and count as a failed batch', async (t) => {
      const pair = await fresh(t);
      const { transport, peerB, storeB } = pair;
      await storeB.put('present', written('present'));
      t.same(values(okObject(t, await transport.replica(peerB, { kind: 'get', key: 'present' }), 'get before stop')), ['present'], 'B is reachable at first');
      await pair.stop();
      const before = transport.stats();
      const ops = [
        transport.replica(peerB, { kind: 'get', key: 'present' }),
        transport.replica(peerB, { kind: 'put', key: 'k', object: written('lost') }),
        transport.replica(peerB, { kind: 'get', key: 'missing' }),
      ];
      for (const [i, op] of ops.entries()) await rejectsWith(t, op, UNREACHABLE, `op ${i} to the stopped peer`);
      const after = transport.stats();
      t.equal(after.batchesSent, before.batchesSent + 1, 'the three ops were one batch');
      t.equal(after.opsSent, before.opsSent + 3);
      t.equal(after.batchesFailed, before.batchesFailed + 1, 'which failed as a whole');
      await rejectsWith(t, transport.replica(peerB, { kind: 'get', key: 'again' }), UNREACHABLE, 'an op in a later turn');
      t.equal(transport.stats().batchesFailed, before.batchesFailed + 2, 'is another failed batch');
      await rejectsWith(
        t,
        transport.coordinate(peerB, { kind: 'get', key: 'present', r: 1, timeoutMs: 1_000 }, 1_000),
        UNREACHABLE,
        'a forward to the stopped peer',
      );
      t.equal(storeB.get('k'), undefined, 'nothing reached B');
    });

    t.test('probe() resolves while B runs and rejects once it is cut off, within its timeout', async (t) => {
      const pair = await fresh(t);
      const { transport, peerB } = pair;
      const before = transport.stats().probes;
      await transport.probe(peerB, 2_000);
      t.pass('B answered a probe');
      t.equal(transport.stats().probes, before + 1, 'counted');
      await pair.stop();
      const started = Date.now();
      await rejectsWith(t, transport.probe(peerB, 300), UNREACHABLE, 'a probe to the stopped peer');
      t.ok(Date.now() - started < 2_000, `within about its timeout (${Date.now() - started} ms)`);
    });

    t.test('coordinate() hands a put and a get to B, which coordinates them', async (t) => {
      const { transport, peerB, storeB } = await fresh(t);
      const before = transport.stats();
      const put = await transport.coordinate(
        peerB,
        { kind: 'put', key: 'fwd', write: { context: [], deleted: false, value: utf8('forwarded'), contentType: 'text/x-fwd' }, options: { w: 1, timeoutMs: 2_000 } },
        2_000,
      );
      t.same(put, { ok: true }, 'the forwarded put succeeds');
      const stored = storeB.get('fwd');
      t.same(values(stored), ['forwarded'], 'B stored the value');
      // Dots carry the coordinator's id, signed with its epoch (`node-b~epoch`).
      t.match(stored?.siblings[0]?.dot.id, ownDot(peerB.id), 'under a dot of its own: B coordinated the write');
      t.equal(stored?.siblings[0]?.contentType, 'text/x-fwd');
      const get = await transport.coordinate(peerB, { kind: 'get', key: 'fwd', r: 1, timeoutMs: 2_000 }, 2_000);
      t.equal(get.ok, true, 'the forwarded get succeeds');
      const got = get.ok ? get.object : undefined;
      t.same(values(got), ['forwarded'], 'and returns the value');
      t.match(got?.siblings[0]?.dot.id, ownDot(peerB.id));
      t.same(await transport.coordinate(peerB, { kind: 'get', key: 'nothing-here', r: 1, timeoutMs: 2_000 }, 2_000), { ok: true }, 'a missing key: ok without object');
      // A write with the read's context replaces the value; a blind one adds a sibling.
      const replace = await transport.coordinate(
        peerB,
        { kind: 'put', key: 'fwd', write: { context: contextOf(got!), deleted: false, value: utf8('second'), contentType: 'text/plain' }, options: { w: 1, timeoutMs: 2_000 } },
        2_000,
      );
      t.same(replace, { ok: true });
      t.same(values(storeB.get('fwd')), ['second'], 'the context covered the old value');
      await transport.coordinate(peerB, { kind: 'put', key: 'fwd', write: { context: [], deleted: false, value: utf8('blind'), contentType: 'text/plain' }, options: { w: 1, timeoutMs: 2_000 } }, 2_000);
      t.same(values(storeB.get('fwd')), ['blind', 'second'], 'a blind write became a sibling');
      t.equal(transport.stats().forwards, before.forwards + 5, 'every forward is counted');
    });

    t.test("coordinate() relays B's coded error with its details", async (t) => {
      const { transport, peerB, storeB } = await fresh(t);
      let crowded: VersionedObject | undefined;
      for (let i = 0; i < PAIR_LIMITS.siblingsMax; i++) {
        crowded = update(crowded, { coordinatorId: `writer-${i}`, context: [], deleted: false, value: utf8(`s${i}`), contentType: 'text/plain', nowMs: 10 + i }, limits);
      }
      await storeB.put('crowded', crowded!);
      const result = await transport.coordinate(
        peerB,
        { kind: 'put', key: 'crowded', write: { context: [], deleted: false, value: utf8('one too many'), contentType: 'text/plain' }, options: { w: 1, timeoutMs: 2_000 } },
        2_000,
      );
      t.equal(result.ok, false, 'the forwarded put fails');
      if (!result.ok) {
        t.equal(result.code, 'KV_ERR_TOO_MANY_SIBLINGS');
        t.match(result.message, /siblings/);
        t.same(result.details, { siblings: PAIR_LIMITS.siblingsMax + 1, limit: PAIR_LIMITS.siblingsMax }, 'the details survive the hop');
      }
      t.strictSame(plain(storeB.get('crowded')), plain(crowded), 'nothing was written on B');
    });

    t.test("tree() returns B's summaries and key digests for the ranges asked, and fails like the others when B is gone", async (t) => {
      const pair = await fresh(t);
      await Promise.all(Array.from({ length: 40 }, (_, i) => pair.storeB.put(`t${i}`, written(`v${i}`))));
      const whole = [{ start: 0, end: 2 ** 48 }];
      const halves = [{ start: 0, end: 2 ** 47 }, { start: 2 ** 47, end: 2 ** 48 }];
      const summaries = await pair.transport.tree(pair.peerB, { kind: 'summaries', sets: [whole, halves, [halves[0]!]] }, 5_000);
      t.equal(summaries.kind, 'summaries');
      if (summaries.kind !== 'summaries') return;
      const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
      t.same(summaries.summaries.map((s) => s.count), [40, 40, pair.storeB.summarize(0, 2 ** 47).count], 'counts per set');
      t.equal(hex(summaries.summaries[0]!.hash), hex(pair.storeB.summarize(0, 2 ** 48).hash), "the hash is B's");
      t.equal(hex(summaries.summaries[1]!.hash), hex(summaries.summaries[0]!.hash), 'a set is the union of its ranges');
      const digests = await pair.transport.tree(pair.peerB, { kind: 'digests', ranges: whole, limit: 25 }, 5_000);
      t.match(digests, { kind: 'digests', truncated: true }, 'more keys than the limit: truncated');
      if (digests.kind === 'digests') {
        t.equal(digests.entries.length, 25);
        t.same(digests.entries.map((e) => e.key), pair.storeB.digests(0, 2 ** 48, 25).map((e) => e.key), "B's keys in position order");
      }
      await pair.stop();
      await rejectsWith(t, pair.transport.tree(pair.peerB, { kind: 'summaries', sets: [whole] }, 300), UNREACHABLE, 'an unreachable B');
    });

    t.test("tree() lists B's live keys for a page: prefix, cursor, ranges, limit (docs/listing.md)", async (t) => {
      const pair = await fresh(t);
      const keys = Array.from({ length: 30 }, (_, i) => `l/${String(i).padStart(2, '0')}`);
      await Promise.all([...keys.map((key) => pair.storeB.put(key, written(key))), pair.storeB.put('other', written('o')), pair.storeB.put('l/é', written('é'))]);
      const tomb = update(pair.storeB.get('l/05'), { coordinatorId: 'node-x', context: contextOf(pair.storeB.get('l/05')!), deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 2_000 }, limits);
      await pair.storeB.put('l/05', tomb);
      const whole = [{ start: 0, end: 2 ** 48 }];
      const first = await pair.transport.tree(pair.peerB, { kind: 'keys', ranges: whole, prefix: 'l/', after: '', limit: 10 }, 5_000);
      const live = [...keys.filter((key) => key !== 'l/05'), 'l/é'];
      t.same(first, { kind: 'keys', keys: live.slice(0, 10), through: live[9] }, 'the first 10 live keys under the prefix; no tombstone');
      const rest = await pair.transport.tree(pair.peerB, { kind: 'keys', ranges: whole, prefix: 'l/', after: live[9]!, limit: 1000 }, 5_000);
      t.same(rest, { kind: 'keys', keys: live.slice(10), through: null }, 'the rest after the cursor, and the end');
      const half = [{ start: 0, end: 2 ** 47 }];
      const inHalf = await pair.transport.tree(pair.peerB, { kind: 'keys', ranges: half, prefix: 'l/', after: '', limit: 1000 }, 5_000);
      t.same(inHalf, { kind: 'keys', ...pair.storeB.listKeys('l/', '', 1000, half) }, "only the range asked, as B's store answers it");
      await pair.stop();
      await rejectsWith(t, pair.transport.tree(pair.peerB, { kind: 'keys', ranges: whole, prefix: '', after: '', limit: 1 }, 300), UNREACHABLE, 'an unreachable B');
    });

    t.test('close() rejects ops still waiting and every later op with KV_ERR_SHUTTING_DOWN', async (t) => {
      const { transport, peerB, storeB } = await fresh(t);
      t.same(await transport.replica(peerB, { kind: 'get', key: 'warm-up' }), { ok: true });
      const before = transport.stats();
      const waiting = transport.replica(peerB, { kind: 'put', key: 'queued', object: written('queued') });
      const closed = transport.close();
      await rejectsWith(t, waiting, ['KV_ERR_SHUTTING_DOWN'], 'an op queued before close()');
      await closed;
      await rejectsWith(t, transport.replica(peerB, { kind: 'put', key: 'late', object: written('late') }), ['KV_ERR_SHUTTING_DOWN'], 'a put after close()');
      await rejectsWith(t, transport.replica(peerB, { kind: 'get', key: 'late' }), ['KV_ERR_SHUTTING_DOWN'], 'a get after close()');
      await rejectsWith(
        t,
        transport.coordinate(peerB, { kind: 'get', key: 'late', r: 1, timeoutMs: 1_000 }, 1_000),
        ['KV_ERR_SHUTTING_DOWN'],
        'a coordinate() after close()',
      );
      await new Promise<void>((resolve) => setImmediate(resolve)); // a turn in which a queued op would be flushed
      t.equal(storeB.get('queued'), undefined, 'the op queued before close() never reached B');
      t.equal(storeB.get('late'), undefined, 'nor did the put after it');
      t.equal(transport.stats().opsSent, before.opsSent, 'nothing was sent after close()');
      await t.resolves(transport.close(), 'a second close() resolves');
    });

    t.test('compare-and-set: a Paxos prepare, accept and commit to B round-trip, and B persisted each step before it replied', async (t) => {
      const { transport, peerB, storeB, casLayout } = await fresh(t);
      const layout = casLayout ?? 0;
      const key = 'cas ✓/key';
      const ballot = { counter: 5, node: 'node-a' };
      const state = { value: { data: allBytes, contentType: 'application/octet-stream' }, version: 1, recent: ['req-1'] };
      // A replica of a real node first learns the key from its ring (docs/cas.md "Membership
      // changes") and refuses until it has: the prepare is sent again until it is answered.
      let promise = await transport.replica(peerB, { kind: 'paxos', key, message: { kind: 'prepare', key, ballot, layout } });
      for (let i = 0; i < 100 && !promise.ok; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        promise = await transport.replica(peerB, { kind: 'paxos', key, message: { kind: 'prepare', key, ballot, layout } });
      }
      t.same(promise, { ok: true, paxos: { kind: 'promise', key, ballot, accepted: undefined, committed: undefined } });
      t.same(storeB.acceptorRecords.get(key)?.promised, ballot, 'the promise was durable before the reply');
      const accepted = await transport.replica(peerB, { kind: 'paxos', key, message: { kind: 'accept', key, ballot, layout, state } });
      t.same(accepted, { ok: true, paxos: { kind: 'accepted', key, ballot } });
      t.same(hex(storeB.acceptorRecords.get(key)?.accepted?.state.value?.data ?? new Uint8Array()), hex(allBytes), 'binary values round-trip');
      const lower = await transport.replica(peerB, { kind: 'paxos', key, message: { kind: 'prepare', key, ballot: { counter: 4, node: 'node-z' }, layout } });
      t.match(lower, { ok: true, paxos: { kind: 'nack', reason: 'ballot', promised: ballot } }, 'a lower ballot is refused with the promised one');
      const higher = await transport.replica(peerB, { kind: 'paxos', key, message: { kind: 'prepare', key, ballot: { counter: 6, node: 'node-a' }, layout } });
      t.match(higher, { ok: true, paxos: { kind: 'promise', accepted: { ballot, state: { version: 1, recent: ['req-1'] } } } }, 'the next promise carries the accepted state');
      t.same(await transport.replica(peerB, { kind: 'paxos', key, message: { kind: 'commit', key, ballot, layout, state } }), { ok: true }, 'a commit has no reply');
      if (casLayout !== undefined) {
        const stale = await transport.replica(peerB, { kind: 'paxos', key, message: { kind: 'prepare', key, ballot: { counter: 9, node: 'node-a' }, layout: casLayout + 1 } });
        t.match(stale, { ok: true, paxos: { kind: 'nack', reason: 'layout' } }, 'a round from another ring is refused');
        const record = await transport.replica(peerB, { kind: 'paxos', key, message: { kind: 'learn', key, ballot: { counter: 0, node: '' }, layout } });
        t.match(record, { ok: true, paxos: { kind: 'record', promised: { counter: 6 }, accepted: { ballot }, committed: { ballot } } }, 'a learn at the same ring gets the record');
      }
      t.same(storeB.acceptorRecords.get(key)?.committed?.ballot, ballot);
      t.equal(storeB.get(key), undefined, 'Paxos records are not causal objects');
    });
  });
}
