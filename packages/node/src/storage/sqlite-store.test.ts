// SqliteStore on real files: durability across reopen, the start-up checks (owner, corrupt
// file, newer schema, unusable directory), the schema, migrations, the saved digest tree, and damaged rows.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { DATABASE_FILE, SAVED_TREE_META, SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { migrate, schemaVersion, type Migration } from './migrations.js';
import { contextOf, update, type VersionedObject } from '../core/versioned.js';

const limits = { siblingsMax: 16, clockEntriesMax: 16 };
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A fresh temporary directory, removed after the test. */
function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-sqlite-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a store and closes it after the test (close is idempotent). */
function open(t: Test, dir: string, overrides: Partial<SqliteStoreOptions> = {}): SqliteStore {
  const store = new SqliteStore({ dir, nodeId: 'node-1', synchronous: 'full', integrityCheck: true, nowMs: () => 1_000, ...overrides });
  t.teardown(() => store.close());
  return store;
}

function written(text: string, coordinatorId = 'node-1', nowMs = 1_000): VersionedObject {
  return update(undefined, { coordinatorId, context: [], deleted: false, value: utf8(text), contentType: 'text/plain', nowMs }, limits);
}

function plain(object: VersionedObject | undefined): unknown {
  if (object === undefined) return undefined;
  return { clock: object.clock, siblings: object.siblings.map((s) => ({ ...s, value: Buffer.from(s.value).toString('hex') })) };
}

/**
 * A second, independent connection to the store's database file. A store holds its file's lock
 * while open (locking_mode EXCLUSIVE), so a store opened while this is open must be opened with
 * `exclusive: false`, and a store opened after it needs it closed first (`peek`).
 */
function rawDb(t: Test, dir: string, options: Database.Options = {}): Database.Database {
  const db = new Database(join(dir, DATABASE_FILE), options);
  t.teardown(() => {
    if (db.open) db.close();
  });
  return db;
}

/** One read through a second connection, closed before the store is opened again. */
function peek<T>(t: Test, dir: string, read: (db: Database.Database) => T): T {
  const db = rawDb(t, dir, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

t.test('data survives close and reopen, including writes still queued at close', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir);
  let rich = update(undefined, { coordinatorId: 'node-1', context: [], deleted: false, value: Uint8Array.from({ length: 256 }, (_, i) => i), contentType: 'application/octet-stream', nowMs: 7 }, limits);
  rich = update(rich, { coordinatorId: 'node-2', context: [], deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 8 }, limits);
  await store.put('rich', rich);
  await store.put('a', written('a'), 'node-1~epoch001abcdefg');
  const queued = store.put('queued', written('queued at close')); // not awaited: close must commit it
  await store.close();
  await queued;

  const again = open(t, dir);
  t.strictSame(plain(again.get('rich')), plain(rich), 'the object is exactly what was written');
  t.strictSame(plain(again.get('a')), plain(written('a')));
  t.strictSame(plain(again.get('queued')), plain(written('queued at close')), 'the write queued at close was committed');
  t.equal(again.keyCount(), 3);
  t.equal(again.actorOf('a'), 'node-1~epoch001abcdefg', "a row's actor survives the restart (core/actor.ts)");
  t.equal(again.actorOf('rich'), undefined);
  t.same(again.stats(), { commits: 0, writes: 0, failedCommits: 0 }, 'stats start at zero for a new process');

  // And the reopened store keeps working on the same data.
  const next = update(again.get('a'), { coordinatorId: 'node-1', context: contextOf(again.get('a')!), deleted: false, value: utf8('a2'), contentType: 'text/plain', nowMs: 9 }, limits);
  await again.put('a', next);
  await again.close();
  t.strictSame(plain(open(t, dir).get('a')), plain(next));
});

t.test('a data directory written by another node id is refused with KV_ERR_DATA_DIR', async (t) => {
  const dir = tempDir(t);
  const first = open(t, dir, { nodeId: 'node-1' });
  await first.put('k', written('v'));
  await first.close();
  t.throws(() => open(t, dir, { nodeId: 'node-2' }), { name: 'KvError', code: 'KV_ERR_DATA_DIR', details: { owner: 'node-1' } });
  const owner = peek(t, dir, (db) => db.prepare("SELECT value FROM meta WHERE name = 'node_id'").pluck().get());
  t.equal(owner, 'node-1', 'the refused open did not take the directory over');
  const back = open(t, dir, { nodeId: 'node-1' });
  t.strictSame(plain(back.get('k')), plain(written('v')), 'the owner still opens it, data intact');
});

t.test('a store holds its file: a second open of the directory is refused at once with KV_ERR_DATA_DIR, the first keeps working', async (t) => {
  const dir = tempDir(t);
  const first = open(t, dir);
  await first.put('k', written('v'));
  const started = performance.now();
  t.throws(() => open(t, dir), { name: 'KvError', code: 'KV_ERR_DATA_DIR', message: /locked/ });
  t.ok(performance.now() - started < 1_000, 'refused without waiting for a busy timeout');
  t.throws(() => rawDb(t, dir, { readonly: true, timeout: 0 }).prepare('SELECT count(*) FROM objects').get(), { code: 'SQLITE_BUSY' }, 'nor can another connection read it');
  await first.put('k2', written('v2'));
  t.strictSame(plain(first.get('k2')), plain(written('v2')), 'the holder still writes and reads');
  t.notOk(existsSync(join(dir, `${DATABASE_FILE}-shm`)), 'no shared-memory file: the WAL index lives in the process');
  await first.close();
  t.strictSame(plain(open(t, dir).get('k2')), plain(written('v2')), 'once closed, the directory opens again, data intact');
});

t.test('a database file of garbage bytes is refused with KV_ERR_STORAGE_CORRUPT and left untouched', async (t) => {
  const garbages: [string, Buffer][] = [
    ['8 KiB of random bytes', randomBytes(8192)],
    ['a short text file', Buffer.from('this is not a database\n')],
    ['a SQLite magic followed by garbage', Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(4080)])],
  ];
  for (const [name, garbage] of garbages) {
    for (const integrityCheck of [true, false]) {
      const dir = tempDir(t);
      writeFileSync(join(dir, DATABASE_FILE), garbage);
      t.throws(() => open(t, dir, { integrityCheck }), { name: 'KvError', code: 'KV_ERR_STORAGE_CORRUPT' }, `${name}, integrityCheck=${integrityCheck}`);
      t.ok(readFileSync(join(dir, DATABASE_FILE)).equals(garbage), `${name}: the file was not modified`);
    }
  }
});

t.test('a database with a damaged page is refused with KV_ERR_STORAGE_CORRUPT when integrityCheck is on', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir);
  await Promise.all(Array.from({ length: 2000 }, (_, i) => store.put(`key-${i}`, written(`value-${i}`.repeat(20)))));
  await store.close();
  const root = peek(t, dir, (db) => db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'objects'").pluck().get() as number);
  const path = join(dir, DATABASE_FILE);
  const bytes = readFileSync(path);
  const pageSize = bytes.readUInt16BE(16);
  t.ok(bytes.length > pageSize * 8, 'fixture: several pages');
  // Overwrite the interior of the objects table's root page (1-based page numbers) with garbage.
  Buffer.alloc(pageSize - 16, 0xab).copy(bytes, pageSize * (root - 1) + 8);
  writeFileSync(path, bytes);
  t.throws(() => open(t, dir, { integrityCheck: true }), { name: 'KvError', code: 'KV_ERR_STORAGE_CORRUPT', message: /integrity/ });
});

t.test('a database from a newer schema version is refused with KV_ERR_STORAGE_CORRUPT', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir);
  await store.put('k', written('v'));
  await store.close();
  const db = rawDb(t, dir);
  db.pragma(`user_version = ${schemaVersion + 1}`);
  db.close();
  t.throws(() => open(t, dir), { name: 'KvError', code: 'KV_ERR_STORAGE_CORRUPT', message: /newer/ });
  const after = rawDb(t, dir, { readonly: true });
  t.equal(after.pragma('user_version', { simple: true }), schemaVersion + 1, 'the version was not touched');
  t.equal(after.prepare('SELECT count(*) FROM objects').pluck().get(), 1, 'nor the data');

  // The same for a database that another program created at a high version from scratch.
  const other = tempDir(t);
  const foreign = new Database(join(other, DATABASE_FILE));
  foreign.exec('CREATE TABLE something (x)');
  foreign.pragma('user_version = 1000');
  foreign.close();
  t.throws(() => open(t, other), { code: 'KV_ERR_STORAGE_CORRUPT' });
});

t.test('a data directory that cannot be created is refused with KV_ERR_DATA_DIR', async (t) => {
  const root = tempDir(t);
  const file = join(root, 'a-regular-file');
  writeFileSync(file, 'x');
  t.throws(() => open(t, join(file, 'data')), { name: 'KvError', code: 'KV_ERR_DATA_DIR' }, 'a path under a regular file');
  t.throws(() => open(t, join(file, 'deeper', 'data')), { name: 'KvError', code: 'KV_ERR_DATA_DIR' }, 'deeper under it');
  t.throws(() => open(t, file), { name: 'KvError', code: 'KV_ERR_DATA_DIR' }, 'the regular file itself');
  t.equal(readFileSync(file, 'utf8'), 'x', 'the file was not touched');
});

t.test('a missing data directory is created, parents included', async (t) => {
  const root = tempDir(t);
  const dir = join(root, 'nested', 'data', 'dir');
  const store = open(t, dir);
  await store.put('k', written('v'));
  t.strictSame(plain(store.get('k')), plain(written('v')));
  mkdirSync(dir, { recursive: true }); // exists now: no error
  t.ok(readFileSync(join(dir, DATABASE_FILE)).length > 0, 'the database file is in the directory');
});

t.test('a fresh database has the current schema version, the tables, and its owner', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir, { nodeId: 'node-xyz' });
  await store.close();
  const db = rawDb(t, dir, { readonly: true });
  t.equal(db.pragma('user_version', { simple: true }), schemaVersion);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
  t.same(tables, ['hints', 'meta', 'objects', 'paxos']);
  const meta = Object.fromEntries((db.prepare('SELECT name, value FROM meta').all() as Array<{ name: string; value: string }>).map((r) => [r.name, r.value]));
  t.equal(meta.node_id, 'node-xyz');
  t.equal(meta.epoch, store.epoch);
  t.match(meta.epoch, /^[0-9a-z]{8}$/);
  t.equal(meta.clean_stop, '1', 'a closed store records a clean stop');
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const objectColumns = db.prepare("SELECT name FROM pragma_table_info('objects') ORDER BY cid").pluck().all();
  t.same(objectColumns, ['key', 'object', 'deleted', 'updated_ms', 'pos', 'digest', 'dead_after_ms', 'actor']);
});

t.test('the deleted and updated_ms columns follow the object', async (t) => {
  const dir = tempDir(t);
  let now = 5_000;
  const store = open(t, dir, { nowMs: () => now, exclusive: false });
  const live = written('v');
  await store.put('k', live);
  const db = rawDb(t, dir, { readonly: true });
  const row = () => db.prepare('SELECT deleted, updated_ms FROM objects WHERE key = ?').get('k');
  t.same(row(), { deleted: 0, updated_ms: 5_000 });
  now = 6_000;
  const tomb = update(live, { coordinatorId: 'node-1', context: contextOf(live), deleted: true, value: new Uint8Array(0), contentType: '', nowMs: 6_000 }, limits);
  await store.put('k', tomb);
  t.same(row(), { deleted: 1, updated_ms: 6_000 });
});

t.test('migrate applies a custom list in order, once', async (t) => {
  const list: Migration[] = [
    { version: 1, description: 'log table', sql: 'CREATE TABLE log (step TEXT NOT NULL); INSERT INTO log VALUES (\'one\');' },
    { version: 2, description: 'extend it', sql: 'ALTER TABLE log ADD COLUMN extra INTEGER NOT NULL DEFAULT 7; INSERT INTO log (step) VALUES (\'two\');' },
  ];
  const db = new Database(':memory:');
  t.teardown(() => db.close());
  t.same(migrate(db, list), [1, 2], 'both applied, in order');
  t.equal(db.pragma('user_version', { simple: true }), 2);
  t.same(db.prepare('SELECT step, extra FROM log ORDER BY rowid').all(), [{ step: 'one', extra: 7 }, { step: 'two', extra: 7 }]);
  t.same(migrate(db, list), [], 'a second call applies nothing');
  t.equal(db.prepare('SELECT count(*) FROM log').pluck().get(), 2, 'no migration ran twice');
  t.equal(db.pragma('user_version', { simple: true }), 2);
});

t.test('migrate starts after the version a database already has', async (t) => {
  const dir = tempDir(t);
  const db = new Database(join(dir, 'm.db'));
  t.teardown(() => db.close());
  const list: Migration[] = [
    { version: 1, description: 'a', sql: 'CREATE TABLE a (x);' },
    { version: 2, description: 'b', sql: 'CREATE TABLE b (x);' },
  ];
  t.same(migrate(db, list.slice(0, 1)), [1]);
  t.same(migrate(db, list), [2], 'only the new migration');
  t.same(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all(), ['a', 'b']);
  t.throws(() => migrate(db, list.slice(0, 1)), { message: /newer/ }, 'a list older than the database is refused');
});

t.test('a failing migration rolls the whole run back', async (t) => {
  const db = new Database(':memory:');
  t.teardown(() => db.close());
  const list: Migration[] = [
    { version: 1, description: 'fine', sql: 'CREATE TABLE a (x);' },
    { version: 2, description: 'broken', sql: 'CREATE TABLE b (x); THIS IS NOT SQL;' },
  ];
  t.throws(() => migrate(db, list));
  t.equal(db.pragma('user_version', { simple: true }), 0, 'the version did not move');
  t.same(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all(), [], 'no table of the run remains');
});

t.test('the shipped migrations run on a fresh database and reach schemaVersion', async (t) => {
  const db = new Database(':memory:');
  t.teardown(() => db.close());
  const applied = migrate(db);
  t.equal(applied.at(-1), schemaVersion);
  t.same(applied, [...applied].sort((a, b) => a - b), 'in ascending order');
  t.same(migrate(db), []);
});

t.test('a damaged object row makes get() throw KV_ERR_STORAGE_CORRUPT; other keys and the store keep working', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir, { exclusive: false });
  await Promise.all([store.put('damaged', written('soon damaged')), store.put('fine', written('fine'))]);
  const db = rawDb(t, dir);
  t.equal(db.prepare("UPDATE objects SET object = x'0102' WHERE key = 'damaged'").run().changes, 1);
  t.throws(() => store.get('damaged'), { name: 'KvError', code: 'KV_ERR_STORAGE_CORRUPT', details: { key: 'damaged' } });
  t.strictSame(plain(store.get('fine')), plain(written('fine')), 'another key reads normally');
  for (const blob of ["x''", "x'00'", "x'ff'", "x'01'", "x'0100'", "x'01000001'"]) {
    db.prepare(`UPDATE objects SET object = ${blob} WHERE key = 'damaged'`).run();
    t.throws(() => store.get('damaged'), { code: 'KV_ERR_STORAGE_CORRUPT' }, `blob ${blob}`);
  }
  // A blind write replaces the damaged row (put does not read it).
  await store.put('damaged', written('repaired'));
  t.strictSame(plain(store.get('damaged')), plain(written('repaired')));
});

t.test('issue 19.9: a damaged row is healed by a peer copy (replica write), digest included', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir, { exclusive: false });
  await store.put('damaged', written('v'));
  const goodDigest = store.digestOf('damaged');
  rawDb(t, dir).prepare("UPDATE objects SET object = x'0102' WHERE key = 'damaged'").run();
  t.throws(() => store.get('damaged'), { code: 'KV_ERR_STORAGE_CORRUPT' });
  await store.merge('damaged', written('v'), limits);
  t.strictSame(plain(store.get('damaged')), plain(written('v')), 'the peer copy replaced it');
  t.same(store.digestOf('damaged'), goodDigest, 'and its digest agrees with the peers again');
});

t.test('a commit that fails rejects its writes with a coded error and leaves nothing visible', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir, { exclusive: false });
  await store.put('before', written('before'));
  const db = rawDb(t, dir);
  db.exec("CREATE TRIGGER refuse BEFORE INSERT ON objects WHEN NEW.key LIKE 'bad%' BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
  const bad = store.put('bad-1', written('x'));
  const alsoInBatch = store.put('ok-but-same-batch', written('y'));
  t.ok(store.get('bad-1'), 'visible while queued');
  await t.rejects(bad, { name: 'KvError', code: 'KV_ERR_STORAGE' });
  await t.rejects(alsoInBatch, { code: 'KV_ERR_STORAGE' }, 'the whole batch fails together');
  t.equal(store.get('bad-1'), undefined, 'the failed write is gone from the view');
  t.equal(store.get('ok-but-same-batch'), undefined, 'and so is the rest of its batch (one transaction)');
  t.equal(store.keyCount(), 1);
  t.same(store.stats(), { commits: 1, writes: 1, failedCommits: 1 });
  await store.put('good', written('good'));
  t.strictSame(plain(store.get('good')), plain(written('good')), 'later batches commit');
  t.same(store.stats(), { commits: 2, writes: 2, failedCommits: 1 });
});

t.test('a put after close rejects; get after close does not return stale data silently', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir);
  await store.put('k', written('v'));
  await store.close();
  await t.rejects(store.put('k2', written('v2')));
  t.throws(() => store.get('k'), 'reading a closed store throws');
});

t.test('the epoch survives clean restarts and is renewed when acknowledged writes may be gone', async (t) => {
  const dir = tempDir(t);
  const first = open(t, dir);
  const epoch = first.epoch;
  await first.close();
  // Left open: an unclean stop (a second connection may open the file only without the lock).
  const second = open(t, dir, { exclusive: false });
  t.equal(second.epoch, epoch, 'a clean restart keeps the epoch');
  // No close(): an unclean stop. Even with every commit fsynced (synchronous=full), the
  // coordinator's last dots may have reached peers and not this disk (store-life.ts): renew.
  const db = rawDb(t, dir);
  t.equal(db.prepare("SELECT value FROM meta WHERE name = 'clean_stop'").pluck().get(), '0', 'a running store is marked not cleanly stopped');
  db.close();
  const third = open(t, dir, { synchronous: 'full', exclusive: false });
  t.not(third.epoch, epoch, 'an unclean stop under synchronous=full renews the epoch');
  // Under synchronous=normal a power loss may also have dropped acknowledged commits: renew.
  const fourth = open(t, dir, { synchronous: 'normal', exclusive: false });
  t.not(fourth.epoch, third.epoch, 'an unclean stop under synchronous=normal renews the epoch');
  await fourth.close();
  const fifth = open(t, dir, { synchronous: 'normal', exclusive: false });
  t.equal(fifth.epoch, fourth.epoch, 'after a clean stop it is kept again');
  await fifth.close();
  const otherDir = tempDir(t);
  t.not(open(t, otherDir).epoch, epoch, 'a new database has a new epoch');
});

t.test('the anti-entropy tree is rebuilt at open, and rows from before schema 3 get their digests', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir);
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(`k${i}`, written(`v${i}`))));
  const whole = (s: SqliteStore) => ({ ...s.summarize(0, 2 ** 48), hash: Buffer.from(s.summarize(0, 2 ** 48).hash).toString('hex') });
  const before = whole(store);
  t.equal(before.count, 50);
  await store.close();
  const reopened = open(t, dir);
  t.same(whole(reopened), before, 'a reopened store summarizes the same');
  await reopened.close();
  // As a database written by an older ringkv would be: no position, no digest.
  const db = rawDb(t, dir);
  db.prepare('UPDATE objects SET pos = NULL, digest = NULL').run();
  db.close();
  const upgraded = open(t, dir, { exclusive: false });
  t.same(whole(upgraded), before, 'the backfill computes the same digests');
  t.same(rawDb(t, dir, { readonly: true }).prepare('SELECT count(*) AS n FROM objects WHERE pos IS NULL OR digest IS NULL').get(), { n: 0 }, 'no row left without them');
});

t.test('schema 7: a database from schema 6 gets the position index without the digest and loses the unused tombstone index; range reads still carry digests', async (t) => {
  const dir = tempDir(t);
  const store = open(t, dir);
  await Promise.all(Array.from({ length: 40 }, (_, i) => store.put(`k${i}`, written(`v${i}`))));
  const ranges = (s: SqliteStore) => s.digests(0, 2 ** 48, 100).map((d) => ({ ...d, digest: Buffer.from(d.digest).toString('hex') }));
  const before = ranges(store);
  await store.close();
  // As schema 6 left it: the index covering (pos, digest), and the one on tombstones.
  const db = rawDb(t, dir);
  db.exec('DROP INDEX objects_pos; CREATE INDEX objects_pos ON objects (pos, digest); CREATE INDEX objects_deleted ON objects (deleted) WHERE deleted = 1');
  db.pragma('user_version = 6');
  db.close();
  const upgraded = open(t, dir);
  t.equal(upgraded.treeSource, 'scan', 'the tree the clean stop saved is not used when a migration ran at this open');
  t.same(ranges(upgraded), before, 'the same keys, positions and digests, in position order');
  await upgraded.put('k0', written('changed'));
  t.same(upgraded.digests(0, 2 ** 48, 100).find((d) => d.key === 'k0')?.digest, upgraded.digestOf('k0'), 'an overwrite is read back with its new digest');
  await upgraded.close();
  const columns = peek(t, dir, (raw) => raw.prepare("SELECT name FROM pragma_index_info('objects_pos')").pluck().all());
  t.same(columns, ['pos'], 'the index holds the position only (its entry does not change when a key is overwritten)');
  const indexes = peek(t, dir, (raw) => raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'objects' AND sql IS NOT NULL ORDER BY name").pluck().all());
  t.same(indexes, ['objects_dead_after', 'objects_pos'], 'the unused index on tombstones is gone');
  t.equal(peek(t, dir, (raw) => raw.pragma('user_version', { simple: true })), schemaVersion);
});

t.test('the digest tree: a clean stop saves it and the next open takes it instead of scanning; any other open scans', async (t) => {
  const dir = tempDir(t);
  const whole = (s: SqliteStore) => {
    const summary = s.summarize(0, 2 ** 48);
    return { count: summary.count, hash: Buffer.from(summary.hash).toString('hex') };
  };
  const savedRows = () => peek(t, dir, (db) => db.prepare('SELECT count(*) AS n FROM meta WHERE name = ?').get(SAVED_TREE_META));
  const first = open(t, dir);
  t.equal(first.treeSource, 'scan', 'a new database: scanned (nothing saved)');
  await Promise.all(Array.from({ length: 300 }, (_, i) => first.put(`k${i}`, written(`v${i}`))));
  const before = whole(first);
  const k7 = Buffer.from(first.digestOf('k7')!);
  await first.close();
  t.same(savedRows(), { n: 1 }, 'a clean stop saved the tree');

  // Proof of which path an open took: a row changed offline, behind the saved tree's back.
  const db = rawDb(t, dir);
  db.prepare("UPDATE objects SET digest = x'00112233445566778899aabbccddeeff' WHERE key = 'k7'").run();
  db.close();
  const second = open(t, dir, { exclusive: false });
  t.equal(second.treeSource, 'saved');
  t.same(whole(second), before, 'the saved tree, not the rows, after a clean stop');
  t.equal(second.keyCount(), 300, 'and the key count with it');
  t.same(rawDb(t, dir, { readonly: true }).prepare('SELECT count(*) AS n FROM meta WHERE name = ?').get(SAVED_TREE_META), { n: 0 }, 'a running store holds no saved tree');
  // Writes after the restore keep it exact: the row is put back as it was, and new keys written.
  rawDb(t, dir).prepare("UPDATE objects SET digest = ? WHERE key = 'k7'").run(k7);
  await Promise.all(Array.from({ length: 50 }, (_, i) => second.put(`new${i}`, written(`n${i}`))));
  const running = whole(second);
  // No close(): an unclean stop. The next open cannot trust a saved tree (there is none) and scans.
  const third = open(t, dir, { exclusive: false });
  t.equal(third.treeSource, 'scan', 'after an unclean stop: scanned');
  t.same(whole(third), running, 'the restored tree plus the writes since equals a scan of the rows');
  t.equal(third.keyCount(), 350);
  await third.close();

  // A damaged saved copy is refused, and the rows are scanned.
  const damage = rawDb(t, dir);
  const blob = damage.prepare('SELECT value FROM meta WHERE name = ?').pluck().get(SAVED_TREE_META) as Buffer;
  blob[100] = blob[100]! ^ 0xff;
  damage.prepare('UPDATE meta SET value = ? WHERE name = ?').run(blob, SAVED_TREE_META);
  damage.close();
  // (Opened without the lock: the second store, stopped uncleanly, still has the file open.)
  const fourth = open(t, dir, { exclusive: false });
  t.equal(fourth.treeSource, 'scan', 'a saved tree whose checksum fails is not used');
  t.same(whole(fourth), running);
  await fourth.close();
  const wrongSize = rawDb(t, dir);
  wrongSize.prepare('UPDATE meta SET value = ? WHERE name = ?').run(Buffer.from('short'), SAVED_TREE_META);
  wrongSize.close();
  const fifth = open(t, dir, { exclusive: false });
  t.equal(fifth.treeSource, 'scan', 'nor one of the wrong size');
  t.same(whole(fifth), running);
});

t.test('issue 19.8: under synchronous=normal, commits are not fsynced one by one, but syncNow fsyncs what was committed', async (t) => {
  const dir = tempDir(t);
  let fsyncs = 0;
  const store = open(t, dir, { synchronous: 'normal', syncFile: async () => void fsyncs++ });
  await store.put('a', written('a'));
  t.equal(fsyncs, 0, 'an acknowledged write under normal waits for no fsync');
  await store.syncNow();
  t.ok(fsyncs >= 1, 'syncNow fsyncs the WAL (and its directory the first time)');
  t.equal(store.walSyncs(), 1);
});
