/**
 * The durable Store: one SQLite database per node through better-sqlite3, in WAL mode.
 *
 * - Durability: a write's promise resolves after its group-commit transaction committed.
 *   With `synchronous: 'full'` (the default) it also waits for an fsync of the WAL that began
 *   after the commit (wal-sync.ts: run off the event loop, one for every batch committed
 *   while the previous fsync ran), so an acknowledged write survives a power loss; with
 *   'normal' it survives a crash of the process (kill -9) but not of the machine. SQLite
 *   itself runs with `synchronous = NORMAL` in both cases. The bench compares both (issue 7).
 *   Of the other writes, only hint adds acknowledge anything, and they wait for the fsync too;
 *   removals (handoff, reaping, delivered hints) that a power loss undid are simply redone.
 * - Start-up checks: the directory must be writable, the file must be a SQLite database that
 *   passes `PRAGMA quick_check`, its schema must not be newer than ours, and it must belong to
 *   this node id. Each failure is a coded error the process reports before exiting.
 * - Runtime failures: SQLITE_FULL becomes KV_ERR_STORAGE_FULL, any other KV_ERR_STORAGE.
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { KvError } from '../errors.js';
import { decodeObject, encodeObject } from '../core/object-codec.js';
import { deadAfterMs, isDeleted, plantedBugs, type VersionedObject, type VersioningLimits } from '../core/versioned.js';
import { StoreLife } from './store-life.js';
import type { HintLimits, HintStore } from './hints.js';
import { DEFAULT_HINT_LIMITS } from './memory-store.js';
import { SqliteHintStore } from './sqlite-hints.js';
import { SqliteAcceptorRecords } from './sqlite-acceptor-records.js';
import type { AcceptorRecordStore } from './acceptor-records.js';
import { storageError } from './storage-error.js';
import { migrate } from './migrations.js';
import { ringPosition } from '@ringkv/protocol';
import { DigestTree, objectDigest, type KeyDigest, type RangeSummary } from './digest-tree.js';
import { GroupCommitQueue, localDeadAfterMs, mergeIntoStore, nextTurn, randomEpoch, type CommitBatch, type Scheduler, type MergeOptions, type Store, type StoreStats } from './store.js';
import { WalSync, type FileSync } from './wal-sync.js';
import { KeyWatchers } from './key-watchers.js';
import { fsyncPath } from './fsync-path.js';
import { compareKeys, isLiveAt, pageOf, prefixEnd, scanBudget, type KeyPage, type ListRange, type ListRow } from './key-listing.js';
import { removeStaleSnapshots, snapshotPath, SNAPSHOT_TAKEN_META, type SnapshotFile } from './snapshot.js';

export interface SqliteStoreOptions {
  /** Directory holding the database; created if missing. */
  readonly dir: string;
  /** The node that owns the data; a directory written by another node id is refused. */
  readonly nodeId: string;
  /** `full` fsyncs every commit (power-loss safe); `normal` survives process crashes only. */
  readonly synchronous: 'full' | 'normal';
  /** Run `PRAGMA quick_check` at open (O(database size)); refuse to start when it fails. */
  readonly integrityCheck: boolean;
  readonly nowMs: () => number;
  readonly schedule?: Scheduler;
  /** Bounds of the hint store (defaults for tests). */
  readonly hintLimits?: HintLimits & VersioningLimits;
  /** How the WAL is flushed under `synchronous: 'full'` (fs.fsync; injected by tests). */
  readonly syncFile?: FileSync;
  /**
   * Hold the database's lock for the connection's life (default true; see openDatabase).
   * Only tests that read or damage the file through a second connection while the store is
   * open turn it off.
   */
  readonly exclusive?: boolean;
}

export const DATABASE_FILE = 'ringkv.db';

/** WAL pages between SQLite's automatic checkpoints (see openDatabase). */
export const WAL_CHECKPOINT_PAGES = 4_000;

function prepareDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 }); // private to the node's user (issue #18)
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch (error) {
    throw new KvError('KV_ERR_DATA_DIR', `data directory ${dir} is not usable: ${(error as Error).message}`, { dir }, { cause: error });
  }
}

/**
 * Makes the database files 0600 whatever the process umask (stored values are the users'
 * data). SQLite gives the -wal and -shm files it creates the database file's mode; files left
 * by an older version are tightened too. Best effort: a file owned by another user (shared
 * through a group) keeps its mode rather than stopping the node.
 */
function keepPrivate(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(file)) chmodSync(file, 0o600);
    } catch {
      // Not ours to change; see above.
    }
  }
}

function openDatabase(path: string, options: SqliteStoreOptions): { db: Database.Database; migrated: boolean } {
  let db: Database.Database | undefined;
  try {
    // No busy wait: the only other user the file can have is another process holding it.
    db = new Database(path, { timeout: 0 });
    keepPrivate(path);
    // One connection, this process's, ever uses the file: it holds the lock for its life
    // instead of taking and dropping POSIX locks (fcntl) around every read and every commit,
    // about two syscalls per operation, and in WAL mode keeps the WAL index in its own memory,
    // not in a -shm file. Set before the first access, so no -shm is made. A second process
    // opening the same directory (two nodes pointed at one data dir) is refused at once.
    if (options.exclusive !== false) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // FULL durability comes from WalSync's fsync, off the event loop (see the module comment).
    db.pragma('synchronous = NORMAL');
    // A checkpoint every 4,000 WAL pages (16 MiB at 4 KiB pages) instead of SQLite's 1,000: a
    // page written many times between checkpoints (index pages of random keys) is copied into
    // the database once per checkpoint, so fewer, larger checkpoints write less. Measured
    // (bench/store-micro.ts, docs/storage.md): a replica write of a random key 60 -> 49 CPU-us,
    // of sequential keys 42 -> 36, the longest event-loop stall 14 -> 17 ms.
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    if (options.integrityCheck) {
      const result = db.pragma('quick_check(1)', { simple: true });
      if (result !== 'ok') throw new KvError('KV_ERR_STORAGE_CORRUPT', `database ${path} failed its integrity check: ${String(result)}`, { path });
    }
    const migrated = migrate(db).length > 0;
    checkOwner(db, options.nodeId, path);
    return { db, migrated };
  } catch (error) {
    db?.close();
    if (error instanceof KvError) throw error;
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new KvError('KV_ERR_DATA_DIR', `database ${path} is locked: another process (another node on this data directory?) has it open`, { path }, { cause: error });
    }
    const coded = storageError(error, `opening ${path}`);
    if (coded.code === 'KV_ERR_STORAGE' && /newer than this ringkv/.test(coded.message)) {
      throw new KvError('KV_ERR_STORAGE_CORRUPT', coded.message, { path }, { cause: error });
    }
    throw coded;
  }
}

/**
 * The store's epoch (see Store.epoch): kept in `meta`; renewed when missing, or when the last
 * stop was not clean (storage/store-life.ts): under `synchronous = normal` a power loss may have
 * dropped writes this node acknowledged, and under either setting the coordinator's last dots
 * may have reached peers without reaching this disk. Also says whether the last stop was clean.
 */
function openEpoch(db: Database.Database): { epoch: string; clean: boolean } {
  const read = (name: string) => (db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined)?.value;
  const write = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
  let epoch = read('epoch');
  const clean = read('clean_stop') === '1';
  if (epoch === undefined || (!clean && !plantedBugs.keepEpochAfterLostWrite)) {
    epoch = randomEpoch();
    write.run('epoch', epoch);
  }
  write.run('clean_stop', '0');
  return { epoch, clean };
}

/**
 * The digest tree a clean stop saved (`meta` row SAVED_TREE_META), taken out of the database:
 * once the store runs, writes change the tree and the saved copy no longer describes the rows,
 * so only the next clean stop writes one again.
 */
function takeSavedTree(db: Database.Database): Uint8Array | undefined {
  const row = db.prepare('DELETE FROM meta WHERE name = ? RETURNING value').get(SAVED_TREE_META) as { value: unknown } | undefined;
  return row?.value instanceof Uint8Array ? row.value : undefined;
}

/** Where close() keeps the digest tree for the next open (see the constructor). */
export const SAVED_TREE_META = 'digest_tree';

/** fsync of a file and of its directory, synchronously (start-up only). */
function syncFileNow(path: string): void {
  fsyncPath(path);
  fsyncPath(dirname(path));
}

function checkOwner(db: Database.Database, nodeId: string, path: string): void {
  const row = db.prepare('SELECT value FROM meta WHERE name = ?').get('node_id') as { value: string } | undefined;
  if (row === undefined) {
    db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run('node_id', nodeId);
  } else if (row.value !== nodeId) {
    throw new KvError('KV_ERR_DATA_DIR', `database ${path} belongs to node "${row.value}", not "${nodeId}"`, { path, owner: row.value });
  }
}

/**
 * The group commit's transaction: writes a batch's objects into `objects` and returns the digest
 * tree's changes, for the caller to apply once the transaction committed.
 */
function batchCommitter(db: Database.Database): (batch: CommitBatch, nowMs: number) => Array<[number, Uint8Array, 1 | -1]> {
  // A row is inserted once and then updated in place. The update leaves `pos` alone unless the
  // writer gave another position: objects_pos indexes (pos) only, so an overwrite dirties the
  // row's page and no index page (migration 7; bench/store-micro.ts --keyspace 5000: median
  // 51 -> 42 CPU-µs and 4.2 -> 2.35 write syscalls per replica write; BENCHMARKS.md, "Side by
  // side with etcd, 2026-12-04, afternoon").
  const insertRow = db.prepare('INSERT INTO objects (key, object, deleted, updated_ms, pos, digest, dead_after_ms, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const updateRow = db.prepare('UPDATE objects SET object = ?, deleted = ?, updated_ms = ?, digest = ?, dead_after_ms = ?, actor = COALESCE(?, actor) WHERE key = ?');
  const moveRow = db.prepare('UPDATE objects SET object = ?, deleted = ?, updated_ms = ?, digest = ?, dead_after_ms = ?, actor = COALESCE(?, actor), pos = ? WHERE key = ?');
  const selectDigest = db.prepare<[string], { pos: number; digest: Buffer; dead_after_ms: number | null }>('SELECT pos, digest, dead_after_ms FROM objects WHERE key = ?');
  // Tree changes are collected inside the transaction and applied only once it committed.
  return db.transaction((batch: CommitBatch, nowMs: number) => {
    const changes: Array<[number, Uint8Array, 1 | -1]> = [];
    for (const [key, object] of batch.objects) {
      const old = selectDigest.get(key);
      const encoded = encodeObject(object);
      const pos = batch.positions.get(key) ?? ringPosition(key);
      const digest = objectDigest(key, encoded);
      const deleted = isDeleted(object) ? 1 : 0;
      const deadAfter = localDeadAfterMs(deadAfterMs(object), old?.dead_after_ms ?? undefined, nowMs) ?? null;
      const actor = batch.actors.get(key) ?? null;
      if (old === undefined) {
        insertRow.run(key, encoded, deleted, nowMs, pos, digest, deadAfter, actor);
      } else {
        changes.push([old.pos, old.digest, -1]);
        if (old.pos === pos) updateRow.run(encoded, deleted, nowMs, digest, deadAfter, actor, key);
        else moveRow.run(encoded, deleted, nowMs, digest, deadAfter, actor, pos, key);
      }
      changes.push([pos, digest, 1]);
    }
    return changes;
  });
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly queue: GroupCommitQueue;
  private readonly watchers = new KeyWatchers();
  private readonly selectObject: Database.Statement<[string], { object: Buffer }>;
  private readonly selectRange: Database.Statement<[number, number, number], { key: string; pos: number; digest: Buffer }>;
  private readonly tree = new DigestTree();
  /** Where this open got the digest tree: a clean stop's saved copy, or a scan of the rows. */
  readonly treeSource: 'saved' | 'scan';
  private readonly selectKeyDigest: Database.Statement<[string], { digest: Buffer }>;
  private readonly selectActor: Database.Statement<[string], { actor: string | null }>;
  private readonly selectDead: Database.Statement<[number, number], { key: string; pos: number; digest: Buffer }>;
  private readonly removeRows: (entries: ReadonlyArray<{ key: string; digest: Uint8Array }>) => Array<{ pos: number; digest: Uint8Array }>;
  private closed = false;
  /** Store.listKeys's statements, by their SQL (four shapes at most). */
  private readonly listStatements: Record<string, Database.Statement> = {};
  /** What makes commits durable: after every commit under `full`, on request (syncNow) under `normal`. */
  private readonly wal: WalSync;
  private readonly life: StoreLife;
  readonly hints: HintStore;
  readonly acceptorRecords: AcceptorRecordStore;

  constructor(private readonly options: SqliteStoreOptions) {
    prepareDir(options.dir);
    removeStaleSnapshots(options.dir);
    const path = join(options.dir, DATABASE_FILE);
    const opened = openDatabase(path, options);
    this.db = opened.db;
    let saved: { tree: Uint8Array | undefined; trusted: boolean };
    try {
      const { epoch, clean } = openEpoch(this.db);
      this.life = new StoreLife(epoch, randomEpoch);
      saved = { tree: takeSavedTree(this.db), trusted: clean && !opened.migrated };
      // openEpoch wrote, so the WAL file exists now.
      this.wal = new WalSync(`${path}-wal`, options.syncFile);
      // Under `normal` the unclean-stop marker openEpoch just wrote must itself survive a power
      // loss, or the next start would take this life's stop for a clean one and keep an epoch
      // whose acknowledged writes may be gone (issue 19.8). Once per start: one fsync.
      if (options.synchronous === 'normal') syncFileNow(`${path}-wal`);
    } catch (error) {
      this.db.close();
      throw error instanceof KvError ? error : storageError(error, `opening ${path}`);
    }
    const durable = options.synchronous === 'full' ? () => this.wal.sync() : undefined;
    const schedule = options.schedule ?? nextTurn;
    this.hints = new SqliteHintStore(this.db, options.hintLimits ?? DEFAULT_HINT_LIMITS, options.nowMs, schedule, durable);
    this.acceptorRecords = new SqliteAcceptorRecords(this.db, () => this.wal.sync(), () => this.wal.failed);
    this.selectObject = this.db.prepare('SELECT object FROM objects WHERE key = ?');
    this.selectKeyDigest = this.db.prepare('SELECT digest FROM objects WHERE key = ?');
    this.selectActor = this.db.prepare('SELECT actor FROM objects WHERE key = ?');
    this.selectDead = this.db.prepare('SELECT key, pos, digest FROM objects WHERE dead_after_ms IS NOT NULL AND dead_after_ms < ? ORDER BY dead_after_ms LIMIT ?');
    this.selectRange = this.db.prepare('SELECT key, pos, digest FROM objects WHERE pos >= ? AND pos < ? ORDER BY pos LIMIT ?');
    const filled = this.backfill();
    this.treeSource = this.loadTree(saved.trusted && filled === 0 ? saved.tree : undefined);
    const commitBatch = batchCommitter(this.db);
    const deleteRow = this.db.prepare<[string, Uint8Array], { pos: number; digest: Buffer }>('DELETE FROM objects WHERE key = ? AND digest = ? RETURNING pos, digest');
    this.removeRows = this.db.transaction((entries: ReadonlyArray<{ key: string; digest: Uint8Array }>) =>
      entries.flatMap((entry) => {
        const row = deleteRow.get(entry.key, entry.digest);
        return row === undefined ? [] : [{ pos: row.pos, digest: row.digest }];
      }),
    );
    this.queue = new GroupCommitQueue((batch) => {
      let changes: Array<[number, Uint8Array, 1 | -1]>;
      try {
        changes = commitBatch(batch, options.nowMs());
      } catch (error) {
        throw storageError(error, `committing ${batch.objects.size} writes`);
      }
      for (const [pos, digest, sign] of changes) this.tree.apply(pos, digest, sign);
      this.watchers.notify(batch.objects.keys());
    }, schedule, durable, () => this.life.writeLost());
  }

  get epoch(): string {
    return this.life.epoch;
  }

  writeRefusal(): KvError | undefined {
    return this.wal.failed ?? this.queue.refusal();
  }

  /**
   * Fills the digest tree: from the last clean stop's saved copy when the caller trusts it (no
   * migration, no backfill at this open) and its checksum holds, with no scan; otherwise from
   * the rows, a scan of the whole table that reads every value too, since pos and digest are
   * stored after the object (docs/storage.md, "Start-up").
   */
  private loadTree(saved: Uint8Array | undefined): 'saved' | 'scan' {
    if (saved !== undefined && this.tree.load(saved)) return 'saved';
    for (const row of this.db.prepare('SELECT pos, digest FROM objects').iterate() as Iterable<{ pos: number; digest: Buffer }>) {
      this.tree.apply(row.pos, row.digest, 1);
    }
    return 'scan';
  }

  /** Fills in position and digest of rows written before schema version 3, in batches; returns how many. */
  private backfill(): number {
    const missing = this.db.prepare<[], { key: string; object: Buffer }>('SELECT key, object FROM objects WHERE pos IS NULL LIMIT 1000');
    const fill = this.db.prepare('UPDATE objects SET pos = ?, digest = ?, dead_after_ms = ? WHERE key = ?');
    const step = this.db.transaction((rows: Array<{ key: string; object: Buffer }>) => {
      for (const row of rows) fill.run(ringPosition(row.key), objectDigest(row.key, row.object), deadAfterMs(decodeObject(row.object, row.key)) ?? null, row.key);
    });
    let filled = 0;
    for (let rows = missing.all(); rows.length > 0; rows = missing.all()) {
      step(rows);
      filled += rows.length;
    }
    return filled;
  }

  get(key: string): VersionedObject | undefined {
    const queued = this.queue.peek(key);
    if (queued !== undefined) return queued;
    let row: { object: Buffer } | undefined;
    try {
      row = this.selectObject.get(key);
    } catch (error) {
      throw storageError(error, `reading a key`);
    }
    return row === undefined ? undefined : decodeObject(row.object, key);
  }

  committed(key: string): Promise<boolean> {
    return this.queue.committed(key);
  }

  actorOf(key: string): string | undefined {
    const queued = this.queue.peekActor(key);
    if (queued !== undefined) return queued;
    try {
      return this.selectActor.get(key)?.actor ?? undefined;
    } catch (error) {
      throw storageError(error, 'reading a key');
    }
  }

  put(key: string, object: VersionedObject, actor?: string, position?: number): Promise<void> {
    // After a failed fsync nothing more is committed: it could never be acknowledged.
    const failed = this.wal.failed;
    if (failed !== undefined) return Promise.reject(failed);
    return this.queue.enqueue(key, object, actor, position);
  }

  merge(key: string, incoming: VersionedObject, limits: VersioningLimits, options?: MergeOptions): Promise<void> {
    // A merge that changes nothing still acknowledges durability: refused, like a put, once an fsync failed.
    const failed = this.wal.failed;
    if (failed !== undefined) return Promise.reject(failed);
    return mergeIntoStore((k) => this.get(k), (k, object, actor, pos) => this.put(k, object, actor, pos), this.queue, key, incoming, limits, options);
  }

  /** fsyncs of the WAL done (under `synchronous: 'normal'` only those syncNow asked for). */
  walSyncs(): number {
    return this.wal.syncs;
  }

  syncNow(): Promise<void> {
    return this.wal.sync();
  }

  stats(): StoreStats {
    return this.queue.stats();
  }

  keyCount(): number {
    // Kept by the digest tree on every commit (a full count(*) per /admin/status request could
    // stall the event loop on a large store: issue #18).
    return this.tree.keyCount;
  }

  removeIfUnchanged(entries: ReadonlyArray<{ readonly key: string; readonly digest: Uint8Array }>): number {
    const removable = entries.filter((entry) => !this.queue.has(entry.key));
    let removed: Array<{ pos: number; digest: Uint8Array }>;
    try {
      removed = this.removeRows(removable);
    } catch (error) {
      throw storageError(error, `removing ${removable.length} keys`);
    }
    for (const { pos, digest } of removed) this.tree.apply(pos, digest, -1);
    return removed.length;
  }

  digestOf(key: string): Uint8Array | undefined {
    const queued = this.queue.peek(key);
    if (queued !== undefined) return objectDigest(key, encodeObject(queued));
    try {
      return this.selectKeyDigest.get(key)?.digest;
    } catch (error) {
      throw storageError(error, 'reading a digest');
    }
  }

  deadBefore(cutoffMs: number, limit: number): KeyDigest[] {
    try {
      return this.selectDead.all(cutoffMs, limit).map((row) => ({ key: row.key, position: row.pos, digest: row.digest }));
    } catch (error) {
      throw storageError(error, 'listing dead keys');
    }
  }

  summarize(start: number, end: number): RangeSummary {
    return this.tree.summary(start, end, (from, to) => this.range(from, to, Number.MAX_SAFE_INTEGER));
  }

  digests(start: number, end: number, limit: number): KeyDigest[] {
    return this.range(start, end, limit);
  }

  private range(from: number, to: number, limit: number): KeyDigest[] {
    try {
      return this.selectRange.all(from, to, limit).map((row) => ({ key: row.key, position: row.pos, digest: row.digest }));
    } catch (error) {
      throw storageError(error, 'reading a key range');
    }
  }

  /**
   * SQLite's online backup of this connection's database into a new file beside it (see
   * snapshot.ts), stamped with when it was taken. Writes go on meanwhile: the backup copies in
   * steps between event-loop turns and restarts itself when this connection writes, so the
   * file is one committed state. A full disk is KV_ERR_STORAGE_FULL; the partial file is
   * deleted on any failure.
   */
  async snapshot(): Promise<SnapshotFile> {
    if (this.closed) throw new KvError('KV_ERR_SHUTTING_DOWN', 'the store is closed; the node is stopping');
    const path = snapshotPath(this.options.dir);
    try {
      await this.db.backup(path);
      const takenMs = this.options.nowMs();
      const copy = new Database(path, { timeout: 0 });
      try {
        copy.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(SNAPSHOT_TAKEN_META, String(takenMs));
        // One self-contained file: fold the copy's own WAL into it before it is streamed.
        copy.pragma('journal_mode = DELETE');
      } finally {
        copy.close();
      }
      chmodSync(path, 0o600);
      return { path, bytes: statSync(path).size, nodeId: this.options.nodeId, takenMs };
    } catch (error) {
      for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) rmSync(file, { force: true });
      throw error instanceof KvError ? error : storageError(error, 'taking a snapshot');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    await this.wal.close();
    // A life that lost a write is unclean (storage/store-life.ts): the next open renews the epoch.
    if (this.life.clean && this.wal.failed === undefined) {
      // One transaction: a saved tree exists only beside a clean-stop mark, and the reverse.
      const save = this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
      this.db.transaction(() => {
        const tree = this.tree.save();
        save.run(SAVED_TREE_META, Buffer.from(tree.buffer, tree.byteOffset, tree.byteLength));
        save.run('clean_stop', '1');
      })();
    }
    this.db.close();
  }

  onCommit(key: string, listener: () => void): () => void {
    return this.watchers.watch(key, listener);
  }

  /**
   * Store.listKeys: a range read of the objects table's primary key (the key, BINARY collation:
   * UTF-8 byte order) from `after`, bounded by the prefix's end and by scanBudget(limit) rows.
   * The object is read only for rows with an expiry, to judge it at this store's clock.
   */
  listKeys(prefix: string, after: string, limit: number, ranges?: readonly ListRange[]): KeyPage {
    const end = prefixEnd(prefix);
    const afterPrefix = compareKeys(after, prefix) >= 0;
    const from = afterPrefix ? after : prefix;
    const budget = scanBudget(limit);
    const nowMs = this.options.nowMs();
    const sql =
      'SELECT key, pos, deleted, CASE WHEN dead_after_ms IS NULL THEN NULL ELSE object END AS object FROM objects ' +
      `WHERE key ${afterPrefix ? '>' : '>='} ? ${end === undefined ? '' : 'AND key < ?'} ORDER BY key LIMIT ?`;
    this.listStatements[sql] ??= this.db.prepare(sql);
    const statement = this.listStatements[sql]!;
    const parameters = end === undefined ? [from, budget] : [from, end, budget];
    try {
      const rows = statement.iterate(...parameters) as Iterable<{ key: string; pos: number; deleted: number; object: Buffer | null }>;
      return pageOf(mapRows(rows, nowMs), limit, ranges, budget);
    } catch (error) {
      throw storageError(error, 'listing keys');
    }
  }
}

function* mapRows(rows: Iterable<{ key: string; pos: number; deleted: number; object: Buffer | null }>, nowMs: number): Iterable<ListRow> {
  for (const row of rows) {
    yield { key: row.key, position: row.pos, live: () => row.deleted === 0 && (row.object === null || liveRow(row.key, row.object, nowMs)) };
  }
}

/** A row whose bytes no longer decode shows nothing a reader could get: it is left out (anti-entropy heals it). */
function liveRow(key: string, object: Buffer, nowMs: number): boolean {
  try {
    return isLiveAt(decodeObject(object, key), nowMs);
  } catch {
    return false;
  }
}
