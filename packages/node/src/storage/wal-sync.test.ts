// WalSync with an injected fsync the test completes by hand: callers are grouped (one fsync
// running, one waiting, whatever the number of callers), a caller never rides on an fsync that
// began before it, a failure is final, close waits; and SqliteStore acknowledges writes and
// hint adds only after the fsync that followed their commit, under synchronous 'full' only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { WalSync, type FileSync } from './wal-sync.js';
import { SqliteStore } from './sqlite-store.js';
import { update } from '../core/versioned.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-wal-sync-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An fsync that completes when the test says so; `calls` lists the descriptors in order. */
function manualSync() {
  const waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const calls: number[] = [];
  const sync: FileSync = (fd) => {
    calls.push(fd);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  /** Completes the oldest fsync still running, then lets promise callbacks run. */
  const finish = async (error?: Error) => {
    const next = waiting.shift();
    if (next === undefined) throw new Error('no fsync is running');
    if (error === undefined) next.resolve();
    else next.reject(error);
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { sync, calls, finish, get running() { return waiting.length; } };
}

function walFile(t: Test): string {
  const path = join(tempDir(t), 'db-wal');
  writeFileSync(path, 'frames');
  return path;
}

/** Whether `p` has settled, checked after pending callbacks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

t.test('callers during a running fsync share the single next one, which starts only after it', async (t) => {
  const fs = manualSync();
  const wal = new WalSync(walFile(t), fs.sync);
  const first = wal.sync();
  t.equal(fs.running, 1, 'the first caller starts an fsync');
  const second = wal.sync();
  const third = wal.sync();
  t.equal(second, third, 'callers that arrive meanwhile share one promise');
  t.equal(fs.running, 1, 'no second fsync runs alongside the first');
  await fs.finish(); // the WAL fsync
  await fs.finish(); // the directory's, once
  t.ok(await settled(first), 'the first caller is done after its fsync');
  t.notOk(await settled(second), 'later callers are not released by an fsync that began before them');
  t.equal(fs.running, 1, 'the next fsync started once the first ended');
  await fs.finish();
  t.ok(await settled(second));
  t.equal(wal.syncs, 2);
  t.equal(fs.calls.length, 3, 'two WAL fsyncs and one of the directory');
  await wal.close();
});

t.test('an idle syncer starts at once; the directory is synced only the first time', async (t) => {
  const fs = manualSync();
  const wal = new WalSync(walFile(t), fs.sync);
  const a = wal.sync();
  await fs.finish();
  await fs.finish();
  await a;
  const b = wal.sync();
  t.equal(fs.running, 1);
  await fs.finish();
  await b;
  t.equal(fs.calls.length, 3);
  t.equal(fs.calls[0], fs.calls[2], 'the WAL descriptor is reused');
  await wal.close();
});

t.test('a failed fsync is final: the callers and every later one get KV_ERR_STORAGE', async (t) => {
  const fs = manualSync();
  const wal = new WalSync(walFile(t), fs.sync);
  const first = wal.sync();
  const second = wal.sync();
  await fs.finish(new Error('EIO: i/o error'));
  await t.rejects(first, { code: 'KV_ERR_STORAGE' });
  await t.rejects(second, { code: 'KV_ERR_STORAGE' }, 'the caller waiting for the next fsync fails too, without one being tried');
  t.equal(fs.running, 0);
  t.match(wal.failed?.message, /EIO/);
  await t.rejects(wal.sync(), { code: 'KV_ERR_STORAGE' });
  t.equal(fs.calls.length, 1, 'no fsync is tried after a failure');
  await wal.close();
});

t.test('a missing WAL file is refused with KV_ERR_STORAGE', async (t) => {
  t.throws(() => new WalSync(join(tempDir(t), 'missing-wal')), { code: 'KV_ERR_STORAGE' });
});

t.test('close waits for the fsyncs under way, then refuses new ones', async (t) => {
  const fs = manualSync();
  const wal = new WalSync(walFile(t), fs.sync);
  const first = wal.sync();
  const closing = wal.close();
  t.notOk(await settled(closing));
  await fs.finish();
  await fs.finish();
  await first;
  await closing;
  await t.rejects(wal.sync(), { code: 'KV_ERR_SHUTTING_DOWN' });
});

const limits = { siblingsMax: 16, clockEntriesMax: 16 };
const object = (text: string) =>
  update(undefined, { coordinatorId: 'node-1', context: [], deleted: false, value: new TextEncoder().encode(text), contentType: 'text/plain', nowMs: 1_000 }, limits);

t.test("SqliteStore under 'full' acknowledges a write only after the fsync that followed its commit", async (t) => {
  const fs = manualSync();
  const store = new SqliteStore({ dir: tempDir(t), nodeId: 'node-1', synchronous: 'full', integrityCheck: false, nowMs: () => 1_000, syncFile: fs.sync });
  t.teardown(async () => {
    while (fs.running > 0) await fs.finish();
    await store.close();
  });
  const write = store.put('k', object('v1'));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(store.stats().commits, 1, 'the batch committed');
  t.equal(fs.running, 1, 'and its fsync runs');
  t.notOk(await settled(write), 'the write is not acknowledged before the fsync ends');
  t.ok(store.get('k'), 'the committed write is readable meanwhile');
  const hint = store.hints.add('node-2', 'h', object('hinted'));
  await new Promise((resolve) => setImmediate(resolve));
  await fs.finish();
  await fs.finish(); // the directory
  t.ok(await settled(write), 'the write is acknowledged after its fsync');
  t.notOk(await settled(hint), 'a hint committed after that fsync began waits for the next');
  await fs.finish();
  t.ok(await settled(hint));
  t.equal(store.walSyncs(), 2);
});

t.test("SqliteStore: after a failed fsync the batch is rejected and every later write refused before it commits", async (t) => {
  const fs = manualSync();
  const store = new SqliteStore({ dir: tempDir(t), nodeId: 'node-1', synchronous: 'full', integrityCheck: false, nowMs: () => 1_000, syncFile: fs.sync });
  t.teardown(() => store.close());
  const write = store.put('k', object('v1'));
  await new Promise((resolve) => setImmediate(resolve));
  await fs.finish(new Error('EIO: i/o error'));
  await t.rejects(write, { code: 'KV_ERR_STORAGE' });
  const commits = store.stats().commits;
  await t.rejects(store.put('k2', object('v2')), { code: 'KV_ERR_STORAGE' });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(store.stats().commits, commits, 'the refused write was never committed');
  t.equal(store.get('k2'), undefined);
});

t.test('SqliteStore: a failed fsync renews the epoch at once, refuses writes up front, and makes the stop unclean', async (t) => {
  const fs = manualSync();
  const dir = tempDir(t);
  const store = new SqliteStore({ dir, nodeId: 'node-1', synchronous: 'full', integrityCheck: false, nowMs: () => 1_000, syncFile: fs.sync });
  const epoch = store.epoch;
  t.equal(store.writeRefusal(), undefined, 'a healthy store takes writes');
  const write = store.put('k', object('v1'));
  await new Promise((resolve) => setImmediate(resolve));
  await fs.finish(new Error('EIO: i/o error'));
  await t.rejects(write, { code: 'KV_ERR_STORAGE' });
  t.not(store.epoch, epoch, 'the epoch is renewed in this life: no row actor is reused');
  t.match(store.writeRefusal(), { code: 'KV_ERR_STORAGE' }, 'the coordinator can tell before it sends a dot');
  const lifeEpoch = store.epoch;
  await store.close();
  const again = new SqliteStore({ dir, nodeId: 'node-1', synchronous: 'full', integrityCheck: false, nowMs: () => 1_000 });
  t.teardown(() => again.close());
  t.not(again.epoch, epoch, 'the next life does not take the old epoch back');
  t.not(again.epoch, lifeEpoch, 'nor the in-memory one: the stop was not clean');
  t.equal(again.writeRefusal(), undefined);
});

t.test("SqliteStore under 'normal' never fsyncs", async (t) => {
  const fs = manualSync();
  const store = new SqliteStore({ dir: tempDir(t), nodeId: 'node-1', synchronous: 'normal', integrityCheck: false, nowMs: () => 1_000, syncFile: fs.sync });
  t.teardown(() => store.close());
  await store.put('k', object('v1'));
  await store.hints.add('node-2', 'h', object('hinted'));
  t.equal(fs.calls.length, 0);
  t.equal(store.walSyncs(), 0);
});
