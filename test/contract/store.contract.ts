/**
 * The Store contract (packages/node/src/storage/store.ts), run over every implementation by
 * test/store-contract.test.ts. `makeStore` must return a fresh, empty store for each test (for
 * a durable store: in a fresh data directory); it receives the subtest so it can register the
 * clean-up of what it created. The contract closes every store it was given.
 */
import type { Test } from 'tap';
import { plain } from '../helpers/compare.js';
import { rmSync, statSync } from 'node:fs';
import { checkSnapshotFile, type SnapshotFile, type Store } from '@ringkv/node';
import { contextOf, update, type VersionedObject, type VersioningLimits } from '@ringkv/node/testing';
import { RING_SPACE, ringPosition } from '@ringkv/protocol';
import { applyOperation, DATA_TYPE_CONTENT_TYPE, decodeDataType, defaultDataTypeLimits, encodeDataType, valueOf, type DataType, type Operation } from '@ringkv/protocol';

export type MakeStore = (t: Test) => Promise<Store> | Store;

const limits: VersioningLimits = { siblingsMax: 16, clockEntriesMax: 16 };
const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
/** A value tap compares exactly, bytes as hex (acceptor records). */
const jsonOf = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v)) ?? 'null');


/** One write of `text` through the real versioning core (no context: a blind write). */
function written(text: string, coordinatorId = 'node-a', nowMs = 1_000): VersionedObject {
  return update(undefined, { coordinatorId, context: [], deleted: false, value: utf8(text), contentType: 'text/plain', nowMs }, limits);
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

/** Reports whether `promise` settled, without giving a macrotask turn (no flush can run). */
function track(promise: Promise<void>): { state: 'pending' | 'resolved' | 'rejected' } {
  const status: { state: 'pending' | 'resolved' | 'rejected' } = { state: 'pending' };
  promise.then(
    () => void (status.state = 'resolved'),
    () => void (status.state = 'rejected'),
  );
  return status;
}

export function storeContract(t: Test, name: string, makeStore: MakeStore): Promise<unknown> {
  return t.test(`Store contract: ${name}`, async (t) => {
    const fresh = async (t: Test): Promise<Store> => {
      const store = await makeStore(t);
      t.teardown(() => store.close());
      return store;
    };

    t.test('a missing key reads as undefined', async (t) => {
      const store = await fresh(t);
      t.equal(store.get('missing'), undefined);
      await store.put('present', written('v'));
      t.equal(store.get('missing'), undefined, 'still missing after another key was written');
      t.equal(store.get('presen'), undefined, 'a prefix of a stored key is a different key');
      t.equal(store.get('present '), undefined, 'so is an extension of it');
      t.equal(store.get('PRESENT'), undefined, 'keys are case-sensitive');
    });

    t.test('put then get round-trips the object exactly (clock, siblings, tombstone, binary values, content types)', async (t) => {
      const store = await fresh(t);
      const object = richObject();
      t.equal(object.siblings.length, 3, 'fixture: three siblings');
      t.ok(object.siblings.some((s) => s.deleted), 'fixture: one of them a tombstone');
      t.equal(object.clock.length, 3, 'fixture: three clock entries');
      await store.put('rich', object);
      const got = store.get('rich');
      t.strictSame(plain(got), plain(object));
      const binary = got!.siblings.find((s) => s.dot.id === 'node-a')!;
      for (const sibling of got!.siblings) {
        // Exactly: a plain Uint8Array comes back as one (not, say, a Buffer view of a database row).
        t.equal(Object.getPrototypeOf(sibling.value), Uint8Array.prototype, `sibling ${sibling.dot.id}: value is a plain Uint8Array`);
      }
      t.same([...binary.value], [...allBytes], 'every byte value survives');
      const tomb = got!.siblings.find((s) => s.deleted)!;
      t.equal(tomb.value.length, 0);
      t.equal(tomb.contentType, '');
      t.equal(got!.siblings.find((s) => s.dot.id === 'node-b')!.contentType, 'text/plain; charset=utf-8');
    });

    t.test('keys with unusual characters, a large value and an empty value round-trip', async (t) => {
      const store = await fresh(t);
      const big = new Uint8Array(1 << 20).map((_, i) => (i * 31 + 7) & 0xff);
      const cases: [string, VersionedObject][] = [
        ['dir/file name ✓ 𝄞', written('unicode key')],
        ['k'.repeat(1024), written('long key')],
        ['%2F?#&=', written('punctuation key')],
        ['big', update(undefined, { coordinatorId: 'node-a', context: [], deleted: false, value: big, contentType: 'application/octet-stream', nowMs: 5 }, limits)],
        ['empty', update(undefined, { coordinatorId: 'node-a', context: [], deleted: false, value: new Uint8Array(0), contentType: 'text/plain', nowMs: 5 }, limits)],
      ];
      await Promise.all(cases.map(([key, object]) => store.put(key, object)));
      for (const [key, object] of cases) t.strictSame(plain(store.get(key)), plain(object), `key ${JSON.stringify(key.slice(0, 20))}`);
    });

    t.test('get sees a queued write before its commit promise resolves', async (t) => {
      const store = await fresh(t);
      await store.put('k', written('old'));
      const commits = store.stats().commits;
      const next = update(store.get('k'), { coordinatorId: 'node-a', context: contextOf(store.get('k')!), deleted: false, value: utf8('new'), contentType: 'text/plain', nowMs: 2_000 }, limits);
      const pending = store.put('k', next);
      const state = track(pending);
      t.strictSame(plain(store.get('k')), plain(next), 'the queued value is visible at once');
      t.strictSame(plain(store.get('k')), plain(next), 'and stays visible');
      await Promise.resolve();
      t.equal(state.state, 'pending', 'the write is not acknowledged within the same turn');
      t.equal(store.stats().commits, commits, 'nor committed yet');
      const fresh2 = store.put('new-key', written('queued'));
      t.strictSame(plain(store.get('new-key')), plain(written('queued')), 'a queued write of a new key is visible too');
      await Promise.all([pending, fresh2]);
      t.equal(state.state, 'resolved');
      t.strictSame(plain(store.get('k')), plain(next), 'and still visible once committed');
    });

    t.test('puts issued in the same turn are one commit (group commit), and all of them resolve', async (t) => {
      const store = await fresh(t);
      const before = store.stats();
      const n = 50;
      const puts = Array.from({ length: n }, (_, i) => store.put(`key-${i}`, written(`value-${i}`)));
      t.equal(store.stats().commits, before.commits, 'nothing committed while the turn runs');
      await Promise.all(puts);
      const after = store.stats();
      t.equal(after.commits, before.commits + 1, 'exactly one more commit');
      t.equal(after.writes, before.writes + n, `${n} more writes`);
      t.equal(after.failedCommits, before.failedCommits);
      for (let i = 0; i < n; i++) t.strictSame(plain(store.get(`key-${i}`)), plain(written(`value-${i}`)));
      t.equal(store.keyCount(), n);
    });

    t.test('puts in separate turns are separate commits', async (t) => {
      const store = await fresh(t);
      const before = store.stats().commits;
      await store.put('a', written('a'));
      t.equal(store.stats().commits, before + 1);
      await store.put('b', written('b'));
      t.equal(store.stats().commits, before + 2);
      await new Promise<void>((resolve) => setImmediate(resolve));
      const c = store.put('c', written('c'));
      await new Promise<void>((resolve) => setImmediate(resolve)); // the turn that flushes c
      const d = store.put('d', written('d'));
      await Promise.all([c, d]);
      t.same(store.stats(), { commits: before + 4, writes: 4, failedCommits: 0 });
    });

    t.test('a key written twice in one turn holds the second value', async (t) => {
      const store = await fresh(t);
      const before = store.stats();
      const first = written('first', 'node-a', 1);
      const second = written('second', 'node-b', 2);
      const p1 = store.put('k', first);
      const p2 = store.put('k', second);
      t.strictSame(plain(store.get('k')), plain(second), 'the queued view holds the second');
      await t.resolves(Promise.all([p1, p2]), 'both writes are acknowledged');
      t.strictSame(plain(store.get('k')), plain(second), 'the committed value is the second');
      t.equal(store.stats().commits, before.commits + 1);
      t.equal(store.stats().writes, before.writes + 1, 'the key counts once');
      t.equal(store.keyCount(), 1);
    });

    t.test('merge: one write of an incoming version into the local copy; a merge that adds nothing writes nothing', async (t) => {
      const store = await fresh(t);
      const a = written('from a', 'node-a', 1);
      const b = written('from b', 'node-b', 2);
      const before = store.stats();
      await store.merge('k', a, limits);
      t.strictSame(plain(store.get('k')), plain(a), 'into nothing: the incoming version as it is');
      await store.merge('k', b, limits);
      t.same(store.get('k')!.siblings.map((s) => s.dot.id), ['node-a', 'node-b'], 'concurrent versions are both kept (siblings)');
      t.equal(store.stats().writes, before.writes + 2, 'each change is one write');
      const held = store.get('k')!;
      const again = store.merge('k', a, limits);
      t.equal(store.stats().commits, before.commits + 2, 'a version already held queues nothing');
      await t.resolves(again, 'and is acknowledged');
      t.strictSame(plain(store.get('k')), plain(held), 'the row is untouched');
      t.equal(store.stats().writes, before.writes + 2, 'no write, no commit');
      // A newer version (its context covers both) replaces both siblings.
      const newer = update(held, { coordinatorId: 'node-a', context: contextOf(held), deleted: false, value: utf8('newer'), contentType: 'text/plain', nowMs: 3 }, limits);
      await store.merge('k', newer, limits);
      t.same(store.get('k')!.siblings.map((s) => Buffer.from(s.value).toString()), ['newer'], 'a descendant supersedes what it saw');
      await store.merge('k', b, limits);
      t.same(store.get('k')!.siblings.map((s) => Buffer.from(s.value).toString()), ['newer'], 'an older version merged late changes nothing');
    });

    t.test('merge: a version merged while the key has a write queued is acknowledged with that commit', async (t) => {
      const store = await fresh(t);
      const a = written('from a', 'node-a', 1);
      const queued = store.put('k', a);
      const merged = store.merge('k', a, limits, { position: 12345 });
      const state = track(merged);
      await Promise.resolve();
      t.equal(state.state, 'pending', 'not before the queued write it matches is committed');
      await Promise.all([queued, merged]);
      t.equal(store.stats().commits, 1, 'one commit for both');
      t.strictSame(plain(store.get('k')), plain(a));
      t.same(store.digests(12345, 12346, 10).map((d) => d.key), ['k'], 'the position the writer gave is the one stored');
    });

    t.test('the position of the latest write is the one stored: an overwrite keeps it, another position moves the key', async (t) => {
      const store = await fresh(t);
      await store.merge('k', written('v1', 'node-a', 1), limits, { position: 12345 });
      await store.merge('k', written('v2', 'node-a', 2), limits, { position: 12345 });
      t.same(store.digests(12345, 12346, 10).map((d) => hex(d.digest)), [hex(store.digestOf('k')!)], 'an overwrite at the same position: one entry, the new digest');
      t.equal(store.summarize(0, RING_SPACE).count, 1);
      await store.merge('k', written('v3', 'node-a', 3), limits, { position: 999 });
      t.same(store.digests(12345, 12346, 10), [], 'nothing left at the old position');
      t.same(store.digests(999, 1000, 10).map((d) => d.key), ['k'], 'the key is at the new one');
      t.equal(store.summarize(0, RING_SPACE).count, 1, 'still one key');
      t.same(hex(store.summarize(999, 1000).hash), hex(store.digestOf('k')!), "the tree's summary is the new digest");
    });

    t.test('merge: the coordinator\'s own version replaces what it was computed from, and gives the row its actor', async (t) => {
      const store = await fresh(t);
      await store.put('k', written('old', 'node-b'));
      const basedOn = store.get('k')!;
      const next = update(basedOn, { coordinatorId: 'node-a~epoch123abcdefg', context: contextOf(basedOn), deleted: false, value: utf8('new'), contentType: 'text/plain', nowMs: 5 }, limits);
      await store.merge('k', next, limits, { basedOn: { object: basedOn }, actor: 'node-a~epoch123abcdefg' });
      t.strictSame(plain(store.get('k')), plain(next), 'stored as computed');
      t.equal(store.actorOf('k'), 'node-a~epoch123abcdefg', 'with the actor it was given');
    });

    t.test('keyCount counts committed keys, tombstoned keys included', async (t) => {
      const store = await fresh(t);
      t.equal(store.keyCount(), 0, 'a fresh store is empty');
      const p = store.put('a', written('a'));
      t.equal(store.keyCount(), 0, 'a queued write is not counted yet');
      await p;
      t.equal(store.keyCount(), 1);
      await Promise.all([store.put('b', written('b')), store.put('c', written('c'))]);
      t.equal(store.keyCount(), 3);
      await store.put('a', written('a again', 'node-b'));
      t.equal(store.keyCount(), 3, 'overwriting a key does not add one');
      const tombstone = update(store.get('b'), { coordinatorId: 'node-a', context: contextOf(store.get('b')!), deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 9 }, limits);
      t.ok(tombstone.siblings.every((s) => s.deleted), 'fixture: b is now only a tombstone');
      await store.put('b', tombstone);
      t.equal(store.keyCount(), 3, 'a tombstoned key still counts');
      t.strictSame(plain(store.get('b')), plain(tombstone), 'and reads back as its tombstone');
    });

    t.test('anti-entropy summaries: order-free, incremental, and equal to a scan of the range', async (t) => {
      const a = await fresh(t);
      const b = await fresh(t);
      const keys = Array.from({ length: 300 }, (_, i) => `ae-${i}`);
      const objects = new Map(keys.map((key) => [key, written(key)]));
      await Promise.all(keys.map((key) => a.put(key, objects.get(key)!)));
      for (const key of [...keys].reverse()) await b.put(key, objects.get(key)!); // another order, other commits
      const whole = (s: Store) => s.summarize(0, RING_SPACE);
      t.equal(whole(a).count, 300, 'every key counted');
      t.same(hex(whole(a).hash), hex(whole(b).hash), 'the same objects give the same hash, whatever the write order');
      // Ranges that cut through segments: the summary equals the XOR of the listed digests.
      for (const [start, end] of [[0, RING_SPACE / 3], [12345, 2 ** 33 + 7], [RING_SPACE / 2 - 5, RING_SPACE / 2 + 2 ** 40]] as const) {
        const listed = a.digests(start, end, 10_000);
        t.ok(listed.every((d, i) => d.position >= start && d.position < end && (i === 0 || listed[i - 1]!.position <= d.position)), 'digests are in range and in position order');
        const xor = new Uint8Array(16);
        for (const d of listed) for (let i = 0; i < 16; i++) xor[i]! ^= d.digest[i]!;
        t.same({ hash: hex(a.summarize(start, end).hash), count: a.summarize(start, end).count }, { hash: hex(xor), count: listed.length }, `summary of [${start}, ${end}) matches its keys`);
      }
      t.equal(a.digests(0, RING_SPACE, 7).length, 7, 'digests honours its limit');
      // A changed object changes the hash; writing the old object back restores it.
      const before = hex(whole(b).hash);
      await b.put('ae-17', written('changed', 'node-z'));
      t.not(hex(whole(b).hash), before, 'a changed object changes the hash');
      t.equal(whole(b).count, 300, 'an overwrite does not change the count');
      await b.put('ae-17', objects.get('ae-17')!);
      t.equal(hex(whole(b).hash), before, 'and the old object brings the old hash back');
      const queued = b.put('ae-new', written('new'));
      t.equal(whole(b).count, 300, 'a queued write is not summarized before it commits');
      await queued;
      t.equal(whole(b).count, 301);
    });

    t.test('removeIfUnchanged drops only keys still holding the given digest and with no queued write', async (t) => {
      const store = await fresh(t);
      await Promise.all(['a', 'b', 'c', 'd'].map((key) => store.put(key, written(key))));
      const digestOf = (key: string) => store.digests(0, RING_SPACE, 100).find((d) => d.key === key)!.digest;
      const [da, db, dc, dd] = ['a', 'b', 'c', 'd'].map(digestOf) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      await store.put('b', written('b changed', 'node-b')); // b changed since its digest was taken
      const queued = store.put('c', written('c again', 'node-c')); // c has a write queued
      const removed = store.removeIfUnchanged([{ key: 'a', digest: da }, { key: 'b', digest: db }, { key: 'c', digest: dc }, { key: 'zz', digest: dd }]);
      t.equal(removed, 1, 'only a was dropped');
      await queued;
      t.equal(store.get('a'), undefined, 'a is gone');
      t.ok(store.get('b') && store.get('c'), 'b and c are kept');
      t.equal(store.keyCount(), 3);
      t.equal(store.summarize(0, RING_SPACE).count, 3, 'the hash tree forgot a');
      t.equal(store.removeIfUnchanged([{ key: 'd', digest: dd }]), 1);
      t.same(store.digests(0, RING_SPACE, 100).map((d) => d.key).sort(), ['b', 'c']);
    });

    t.test('a row keeps the actor it was given until it is removed (core/actor.ts)', async (t) => {
      const store = await fresh(t);
      t.equal(store.actorOf('k'), undefined, 'no row, no actor');
      await store.put('k', written('v1'));
      t.equal(store.actorOf('k'), undefined, 'a row written without an actor (a replica write) has none');
      const queued = store.put('k', written('v2'), 'node-a~epoch123abcdefg');
      t.equal(store.actorOf('k'), 'node-a~epoch123abcdefg', 'a queued write shows its actor');
      await queued;
      await store.put('k', written('v3'));
      t.equal(store.actorOf('k'), 'node-a~epoch123abcdefg', 'a later write without an actor keeps the row\'s');
      t.equal(store.actorOf('other'), undefined, 'other keys are unaffected');
      t.equal(store.removeIfUnchanged([{ key: 'k', digest: store.digestOf('k')! }]), 1);
      t.equal(store.actorOf('k'), undefined, 'removing the row removes its actor');
      await store.put('k', written('v4'));
      t.equal(store.actorOf('k'), undefined, 'a row created again starts without one');
    });

    t.test('close flushes queued writes (their promises resolve) and a put after close rejects', async (t) => {
      const store = await fresh(t);
      const before = store.stats();
      const queued = [store.put('a', written('a')), store.put('b', written('b'))];
      const states = queued.map(track);
      await store.close();
      t.same(states.map((s) => s.state), ['resolved', 'resolved'], 'queued writes were committed by close');
      await t.resolves(Promise.all(queued));
      t.equal(store.stats().commits, before.commits + 1, 'in one commit');
      t.equal(store.stats().writes, before.writes + 2);
      await t.rejects(store.put('c', written('c')), Error, 'a put after close rejects');
    });

    t.test('snapshot: a checked copy of the committed keys in the store\'s directory, or a coded refusal', async (t) => {
      const store = await fresh(t);
      await Promise.all([store.put('a', written('a')), store.put('b', written('b'))]);
      if (store.snapshot === undefined) return t.pass('this store offers no snapshot (the route answers a coded error)');
      let file: SnapshotFile;
      try {
        file = await store.snapshot();
      } catch (error) {
        t.match((error as { code?: string }).code, /^KV_ERR_/, 'a store that cannot snapshot refuses with a coded error');
        return;
      }
      t.teardown(() => rmSync(file.path, { force: true }));
      const info = checkSnapshotFile(file.path);
      t.equal(info.keys, 2, 'the copy holds the committed keys');
      t.equal(info.nodeId, file.nodeId, 'and names its node');
      t.equal(statSync(file.path).size, file.bytes, 'its size is what the store says');
      t.ok(store.get('a'), 'the store itself is untouched');
    });

    // Listing keys (docs/listing.md): byte order of the UTF-8 key, which JavaScript's own
    // string order is not ('～' U+FF5E sorts after '𝄞' U+1D11E in UTF-16, before it in UTF-8).
    const listed = ['a', 'ab', 'abc', 'b', 'ba', 'z', 'é', 'éa', '～', '𝄞'];

    t.test('listKeys: live keys in UTF-8 byte order, by prefix, after a cursor, at most limit', async (t) => {
      const store = await fresh(t);
      for (const key of [...listed].reverse()) await store.put(key, written(key));
      t.same(store.listKeys('', '', 100), { keys: listed, through: null }, 'every key, byte order, nothing beyond');
      t.same(store.listKeys('a', '', 100).keys, ['a', 'ab', 'abc'], 'a prefix');
      t.same(store.listKeys('a', 'a', 100).keys, ['ab', 'abc'], 'after is exclusive');
      t.same(store.listKeys('é', '', 100).keys, ['é', 'éa'], 'a non-ASCII prefix');
      t.same(store.listKeys('', 'ba', 100).keys, ['z', 'é', 'éa', '～', '𝄞'], 'after a key outside the prefix');
      t.same(store.listKeys('b', 'zz', 100), { keys: [], through: null }, 'after beyond the prefix');
      t.same(store.listKeys('q', '', 100), { keys: [], through: null }, 'a prefix nothing has');
      t.same(store.listKeys('', '', 3), { keys: ['a', 'ab', 'abc'], through: 'abc' }, 'cut at the limit; through the last key');
      const walked: string[] = [];
      let after = '';
      for (let page = 0; page < 20; page++) {
        const { keys, through } = store.listKeys('', after, 2);
        walked.push(...keys);
        if (through === null) break;
        after = through;
      }
      t.same(walked, listed, 'pages of 2 walk every key once, in order');
    });

    t.test('listKeys: tombstoned and expired keys are left out; only the ranges asked', async (t) => {
      const store = await fresh(t);
      for (const key of listed) await store.put(key, written(key));
      const tomb = update(store.get('b'), { coordinatorId: 'node-a', context: contextOf(store.get('b')!), deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 2_000 }, limits);
      await store.put('b', tomb);
      // Written at 1 s with a 1 s TTL: expired long before now on the store's clock.
      await store.put('z', update(undefined, { coordinatorId: 'node-a', context: [], deleted: false, value: utf8('z'), contentType: 'text/plain', nowMs: 1_000, ttlMs: 1_000 }, limits));
      await store.put('ttl-live', update(undefined, { coordinatorId: 'node-a', context: [], deleted: false, value: utf8('t'), contentType: 'text/plain', nowMs: Date.now(), ttlMs: 3_600_000 }, limits));
      const live = [...listed.filter((key) => key !== 'b' && key !== 'z'), 'ttl-live'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      t.same(store.listKeys('', '', 100).keys, live, 'no tombstone, no expired value; a value not yet expired stays');
      const half = [{ start: 0, end: RING_SPACE / 2 }];
      const inHalf = live.filter((key) => ringPosition(key) < RING_SPACE / 2);
      t.ok(inHalf.length > 0 && inHalf.length < live.length, 'the keys fall on both halves of the ring');
      t.same(store.listKeys('', '', 100, half).keys, inHalf, 'only keys whose position lies in the ranges');
    });

    t.test('close is idempotent', async (t) => {
      const store = await fresh(t);
      await store.put('a', written('a'));
      await t.resolves(store.close());
      await t.resolves(store.close(), 'a second close resolves');
      await t.resolves(Promise.all([store.close(), store.close()]), 'concurrent closes resolve');
      t.equal(store.stats().commits, 1, 'closing an empty queue commits nothing');
      await t.rejects(store.put('b', written('b')), Error, 'still closed');
    });

    t.test('acceptor records (compare-and-set): none for a fresh key, round-trip exactly, the last write wins per key', async (t) => {
      const store = await fresh(t);
      const records = store.acceptorRecords;
      t.equal(records.get('claim'), undefined);
      t.equal(records.ballotMark(), 0, 'a fresh node has reserved no ballots');
      const state = { value: { data: allBytes, contentType: 'text/plain; charset=utf-8' }, version: 3, recent: ['r-1', 'r-2', 'héllo'] };
      const promised = { promised: { counter: 7, node: 'node-b' }, accepted: undefined, committed: undefined, layoutMin: 2 };
      await records.put('claim', promised);
      t.same(jsonOf(records.get('claim')), jsonOf(promised));
      const accepted = { ...promised, accepted: { ballot: { counter: 7, node: 'node-b' }, state }, committed: { ballot: { counter: 5, node: 'node-a' }, state: { value: null, version: 2, recent: [] } } };
      await records.put('claim', accepted);
      t.same(jsonOf(records.get('claim')), jsonOf(accepted), 'promise, accepted and committed states, absent values, request ids and the fence');
      await records.put('other', promised);
      t.equal(records.count(), 2);
      await records.putBallotMark(2_000);
      await records.putBallotMark(1_000);
      t.equal(records.ballotMark(), 2_000, 'the mark never goes back');
      t.equal(store.get('claim'), undefined, 'records are not causal objects');
    });

    // Issue 15: a data-type key is merged by its type's join (core/dt-merge.ts), never kept as siblings.
    t.test('merge: concurrent data-type versions of one kind become one joined sibling, in any order; other kinds stay siblings', async (t) => {
      const [ab, ba] = [await fresh(t), await fresh(t)];
      const x = dtWritten(undefined, { kind: 'counter', increment: 3 }, 'actorX', 'node-a', 10);
      const y = dtWritten(undefined, { kind: 'counter', increment: 4 }, 'actorY', 'node-b', 11);
      await ab.merge('c', x.object, limits);
      await ab.merge('c', y.object, limits);
      await ba.merge('c', y.object, limits);
      await ba.merge('c', x.object, limits);
      const held = ab.get('c')!;
      t.equal(held.siblings.length, 1, 'one sibling, not two');
      t.equal(held.siblings[0]!.contentType, DATA_TYPE_CONTENT_TYPE);
      t.equal(valueOf(decodeDataType(held.siblings[0]!.value, defaultDataTypeLimits)), 7, 'the join holds both increments');
      t.ok(['node-a', 'node-b'].every((id) => held.clock.some((e) => e.id === id && e.counter >= 1)), 'its clock covers both versions\' dots');
      t.strictSame(plain(ba.get('c')), plain(held), 'merged in the other order: the same object');
      const commits = ab.stats().commits;
      await ab.merge('c', x.object, limits);
      await ab.merge('c', held, limits);
      t.equal(ab.stats().commits, commits, 'merging a joined version again (or one it holds) writes nothing');
      // A removal a version made stays made: the join is not a union.
      const added = dtWritten(undefined, { kind: 'set', add: ['a', 'b'], remove: [] }, 'actorX', 'node-a', 20);
      const removed = dtWritten(added.state, { kind: 'set', add: [], remove: ['a'] }, 'actorY', 'node-b', 21);
      await ab.merge('s', removed.object, limits);
      await ab.merge('s', added.object, limits);
      t.same(ab.get('s')!.siblings.length, 1);
      t.same(valueOf(decodeDataType(ab.get('s')!.siblings[0]!.value, defaultDataTypeLimits)), ['b'], 'the removed element stays removed');
      // Two kinds under one key (or a plain value beside a data type) stay siblings: a read answers 409.
      const set = dtWritten(undefined, { kind: 'set', add: ['z'], remove: [] }, 'actorZ', 'node-c', 30);
      await ab.merge('c', set.object, limits);
      t.equal(ab.get('c')!.siblings.length, 2, 'a counter and a set: two siblings');
      await ab.merge('p', written('plain', 'node-c', 40), limits);
      await ab.merge('p', x.object, limits);
      t.equal(ab.get('p')!.siblings.length, 2, 'a plain value and a data type: two siblings');
    });

    t.test('acceptor records: keys, pages in byte order after a cursor, the layout mark (docs/cas.md "Membership changes")', async (t) => {
      const records = (await fresh(t)).acceptorRecords;
      t.same(records.layoutMark(), { digest: 0, generation: 0, learned: false }, 'a fresh (or wiped) node has no layout');
      const record = { promised: { counter: 1, node: 'node-a' }, accepted: undefined, committed: undefined, layoutMin: 1 };
      for (const key of ['b', 'a', 'é', 'c', 'ab']) await records.put(key, record);
      t.same(records.keys().sort(), ['a', 'ab', 'b', 'c', 'é']);
      t.same(records.page('', 2).map((r) => r.key), ['a', 'ab'], 'the first page');
      t.same(records.page('ab', 10).map((r) => r.key), ['b', 'c', 'é'], 'after the cursor, UTF-8 byte order');
      t.same(records.page('é', 10), [], 'nothing after the last key');
      t.same(jsonOf(records.page('b', 1)[0]!.record), jsonOf(record));
      await records.putLayoutMark({ digest: 2 ** 47 + 5, generation: 3, learned: true });
      t.same(records.layoutMark(), { digest: 2 ** 47 + 5, generation: 3, learned: true }, 'a 48-bit digest round-trips');
      await records.putLayoutMark({ digest: 9, generation: 4, learned: false });
      t.same(records.layoutMark(), { digest: 9, generation: 4, learned: false });
    });
  });
}

/** One data-type write: `op` applied to `state` under a dot of `actor`, stored blind by `coordinatorId`. */
function dtWritten(state: DataType | undefined, op: Operation, actor: string, coordinatorId: string, nowMs: number): { state: DataType; object: VersionedObject } {
  const next = applyOperation(state, op, { actor, counter: (state?.context.vv.get(actor) ?? 0) + 1 }, nowMs, defaultDataTypeLimits);
  const value = encodeDataType(next, defaultDataTypeLimits);
  return { state: next, object: update(undefined, { coordinatorId, context: [], deleted: false, value, contentType: DATA_TYPE_CONTENT_TYPE, nowMs }, limits) };
}
