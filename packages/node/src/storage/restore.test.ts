// Snapshots and offline restore on real files: a snapshot taken while writes go on is one
// consistent, checked database; a restore renews the epoch (no reused dots), drops hints,
// keeps the node's other files, moves the old database aside, and refuses what is unsafe: an
// old snapshot, another node's snapshot, a removed identity, a damaged file, a running node.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DATABASE_FILE, SqliteStore } from './sqlite-store.js';
import { checkSnapshotFile, SNAPSHOT_PREFIX } from './snapshot.js';
import { restoreSnapshot, snapshotAgeMaxMs } from './restore.js';
import { update, type VersionedObject } from '../core/versioned.js';
import { KvError } from '../errors.js';

const limits = { siblingsMax: 16, clockEntriesMax: 16 };
const GRACE_MS = 3_600_000;
let now = 1_000_000;

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-restore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string, nodeId = 'node-1'): SqliteStore {
  return new SqliteStore({ dir, nodeId, synchronous: 'full', integrityCheck: true, nowMs: () => now });
}

const written = (text: string): VersionedObject =>
  update(undefined, { coordinatorId: 'node-1', context: [], deleted: false, value: new TextEncoder().encode(text), contentType: 'text/plain', nowMs: 1_000 }, limits);

/** A store in `dir` with keys k0..k(count-1), a hint, and a snapshot of it in `out`. */
async function snapshotOf(t: Test, dir: string, count: number): Promise<{ path: string; epoch: string }> {
  const store = open(dir);
  t.teardown(() => store.close());
  await Promise.all(Array.from({ length: count }, (_, i) => store.put(`k${i}`, written(`v${i}`))));
  await store.hints.add('node-2', 'k0', written('hinted'));
  const file = await store.snapshot();
  const path = join(tempDir(t), 'snap.db');
  writeFileSync(path, readFileSync(file.path));
  rmSync(file.path);
  const epoch = store.epoch;
  await store.close();
  return { path, epoch };
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof KvError ? error.code : `not coded: ${String(error)}`;
  }
  return 'no error';
};

t.test('a snapshot taken while writes go on is one consistent, checked database', async (t) => {
  const dir = tempDir(t);
  const store = open(dir);
  t.teardown(() => store.close());
  await Promise.all(Array.from({ length: 500 }, (_, i) => store.put(`a${i}`, written('x'.repeat(200)))));
  const taking = store.snapshot();
  const during = Array.from({ length: 200 }, (_, i) => store.put(`b${i}`, written('y')));
  const file = await taking;
  await Promise.all(during);
  t.ok(file.path.startsWith(join(dir, SNAPSHOT_PREFIX)), 'written into the data directory');
  const info = checkSnapshotFile(file.path);
  t.equal(info.nodeId, 'node-1');
  t.equal(info.takenMs, now, 'stamped with when it was taken');
  t.ok(info.keys >= 500 && info.keys <= 700, `holds the keys committed before it began, and no partial batch (${info.keys})`);
  t.equal(file.nodeId, 'node-1');
  // A temporary copy left by a previous life (a crash mid-snapshot) is deleted at the next open.
  await store.close();
  writeFileSync(join(dir, `${SNAPSHOT_PREFIX}left-behind.tmp`), 'x');
  writeFileSync(join(dir, `${SNAPSHOT_PREFIX}left-behind.tmp-wal`), 'x');
  await open(dir).close();
  t.same(readdirSync(dir).filter((name) => name.startsWith(SNAPSHOT_PREFIX)), [], 'stale snapshot files are removed at open');
});

t.test('restore: new epoch, hints dropped, identity files kept, old database moved aside', async (t) => {
  const dir = tempDir(t);
  const { path, epoch } = await snapshotOf(t, dir, 10);
  writeFileSync(join(dir, 'admin-token'), 'token\n');
  writeFileSync(join(dir, 'removed-members'), 'node-9\n');
  const store = open(dir);
  await store.put('after', written('after the snapshot'));
  await store.close();

  now += 60_000;
  const result = restoreSnapshot({ from: path, dir, tombstoneGraceMs: GRACE_MS, nowMs: now });
  t.equal(result.snapshot.keys, 10);
  t.equal(result.ageMs, 60_000);
  t.equal(result.hintsDropped, 1, 'the snapshot\'s hints are dropped');
  t.ok(result.movedAside !== undefined && existsSync(join(result.movedAside, DATABASE_FILE)), 'the old database was moved aside, not deleted');
  t.equal(readFileSync(join(dir, 'admin-token'), 'utf8'), 'token\n', 'the admin token is kept');
  t.equal(readFileSync(join(dir, 'removed-members'), 'utf8'), 'node-9\n', 'the removals record is kept');

  const restored = open(dir);
  t.teardown(() => restored.close());
  t.not(restored.epoch, epoch, 'the restored node starts under a new epoch: its rows\' actors are never reused');
  t.ok(restored.get('k9'), 'the snapshot\'s keys are there');
  t.equal(restored.get('after'), undefined, 'the write after the snapshot is not (anti-entropy brings it)');
  t.equal(restored.hints.count(), 0, 'no hints');
});

t.test('restore refuses what is unsafe, with coded errors, and changes nothing', async (t) => {
  const dir = tempDir(t);
  const { path } = await snapshotOf(t, dir, 3);
  const before = readdirSync(dir).sort();

  t.equal(codeOf(() => restoreSnapshot({ from: path, dir, tombstoneGraceMs: GRACE_MS, nowMs: now + snapshotAgeMaxMs(GRACE_MS) + 1 })), 'KV_ERR_BAD_REQUEST', 'a snapshot older than the grace allows');

  const other = tempDir(t);
  const otherStore = open(other, 'node-2');
  await otherStore.close();
  t.equal(codeOf(() => restoreSnapshot({ from: path, dir: other, tombstoneGraceMs: GRACE_MS, nowMs: now })), 'KV_ERR_DATA_DIR', 'another node\'s directory');

  const removed = tempDir(t);
  writeFileSync(join(removed, 'removed'), 'node-1\n');
  t.equal(codeOf(() => restoreSnapshot({ from: path, dir: removed, tombstoneGraceMs: GRACE_MS, nowMs: now })), 'KV_ERR_DATA_DIR', 'a removed identity\'s directory');

  t.equal(codeOf(() => restoreSnapshot({ from: join(dir, 'no-such-snapshot'), dir, tombstoneGraceMs: GRACE_MS, nowMs: now })), 'KV_ERR_BAD_REQUEST', 'a file that does not exist');
  const garbage = join(tempDir(t), 'garbage.db');
  writeFileSync(garbage, Buffer.alloc(8192, 7));
  t.equal(codeOf(() => restoreSnapshot({ from: garbage, dir, tombstoneGraceMs: GRACE_MS, nowMs: now })), 'KV_ERR_STORAGE_CORRUPT', 'a file that is not a database');
  const truncated = join(tempDir(t), 'truncated.db');
  writeFileSync(truncated, readFileSync(path).subarray(0, 4096 * 2));
  t.equal(codeOf(() => restoreSnapshot({ from: truncated, dir, tombstoneGraceMs: GRACE_MS, nowMs: now })), 'KV_ERR_STORAGE_CORRUPT', 'a truncated snapshot');

  const running = open(dir);
  t.teardown(() => running.close());
  t.equal(codeOf(() => restoreSnapshot({ from: path, dir, tombstoneGraceMs: GRACE_MS, nowMs: now })), 'KV_ERR_DATA_DIR', 'a directory a running store holds');
  await running.close();
  t.same(readdirSync(dir).sort(), before, 'nothing in the directory changed');
});

t.test('restore into a missing directory (a replaced disk) creates it', async (t) => {
  const { path } = await snapshotOf(t, tempDir(t), 4);
  const dir = join(tempDir(t), 'new-disk', 'node-1');
  const result = restoreSnapshot({ from: path, dir, tombstoneGraceMs: GRACE_MS, nowMs: now });
  t.equal(result.movedAside, undefined);
  const store = open(dir);
  t.teardown(() => store.close());
  t.equal(store.keyCount(), 4);
});
