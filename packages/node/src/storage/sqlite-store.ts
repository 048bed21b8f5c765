/**
 * The durable Store: one SQLite database per node through better-sqlite3, in WAL mode.
 *
 * - Durability: a write's promise resolves after its group-commit transaction committed.
 *   With `synchronous = FULL` (the default) the WAL is fsynced at every commit, so an
 *   acknowledged write survives a power loss; with NORMAL it survives a crash of the process
 *   (kill -9) but not of the machine. The bench compares both (issue 7).
 * - Start-up checks: the directory must be writable, the file must be a SQLite database that
 *   passes `PRAGMA quick_check`, its schema must not be newer than ours, and it must belong to
 *   this node id. Each failure is a coded error the process reports before exiting.
 * - Runtime failures: SQLITE_FULL becomes KV_ERR_STORAGE_FULL, any other KV_ERR_STORAGE.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KvError } from '../errors.js';
import { decodeObject, encodeObject } from '../core/object-codec.js';
import { isDeleted, type VersionedObject, type VersioningLimits } from '../core/versioned.js';
import type { HintLimits, HintStore } from './hints.js';
import { DEFAULT_HINT_LIMITS } from './memory-store.js';
import { SqliteHintStore } from './sqlite-hints.js';
import { migrate } from './migrations.js';
import { GroupCommitQueue, newEpoch, nextTurn, type Scheduler, type Store, type StoreStats } from './store.js';

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
}

export const DATABASE_FILE = 'ringkv.db';

/** Maps a better-sqlite3 error to the coded error an operator or client should see. */
export function storageError(error: unknown, action: string): KvError {
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_FULL') return new KvError('KV_ERR_STORAGE_FULL', `${action}: disk full`, { sqlite: code }, { cause: error });
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new KvError('KV_ERR_STORAGE_CORRUPT', `${action}: ${message}`, { sqlite: code }, { cause: error });
  }
  return new KvError('KV_ERR_STORAGE', `${action}: ${message}`, { sqlite: code }, { cause: error });
}

function prepareDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch (error) {
    throw new KvError('KV_ERR_DATA_DIR', `data directory ${dir} is not usable: ${(error as Error).message}`, { dir }, { cause: error });
  }
}

function openDatabase(path: string, options: SqliteStoreOptions): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    if (options.integrityCheck) {
      const result = db.pragma('quick_check(1)', { simple: true });
      if (result !== 'ok') throw new KvError('KV_ERR_STORAGE_CORRUPT', `database ${path} failed its integrity check: ${String(result)}`, { path });
    }
    migrate(db);
    checkOwner(db, options.nodeId, path);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof KvError) throw error;
    const coded = storageError(error, `opening ${path}`);
    if (coded.code === 'KV_ERR_STORAGE' && /newer than this ringkv/.test(coded.message)) {
      throw new KvError('KV_ERR_STORAGE_CORRUPT', coded.message, { path }, { cause: error });
    }
    throw coded;
  }
}

/**
 * The store's epoch (see Store.epoch): kept in `meta`; renewed when missing, or when the last
 * stop was not clean and commits were not fsynced (`synchronous = normal`), since a power loss
 * may then have dropped writes this node acknowledged.
 */
function openEpoch(db: Database.Database, synchronous: 'full' | 'normal'): string {
  const read = (name: string) => (db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined)?.value;
  const write = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
  let epoch = read('epoch');
  const clean = read('clean_stop') === '1';
  if (epoch === undefined || (synchronous === 'normal' && !clean)) {
    epoch = newEpoch();
    write.run('epoch', epoch);
  }
  write.run('clean_stop', '0');
  return epoch;
}

function checkOwner(db: Database.Database, nodeId: string, path: string): void {
  const row = db.prepare('SELECT value FROM meta WHERE name = ?').get('node_id') as { value: string } | undefined;
  if (row === undefined) {
    db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run('node_id', nodeId);
  } else if (row.value !== nodeId) {
    throw new KvError('KV_ERR_DATA_DIR', `database ${path} belongs to node "${row.value}", not "${nodeId}"`, { path, owner: row.value });
  }
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly queue: GroupCommitQueue;
  private readonly selectObject: Database.Statement<[string], { object: Buffer }>;
  private readonly countObjects: Database.Statement<[], { n: number }>;
  private closed = false;
  readonly epoch: string;
  readonly hints: HintStore;

  constructor(private readonly options: SqliteStoreOptions) {
    prepareDir(options.dir);
    this.db = openDatabase(join(options.dir, DATABASE_FILE), options);
    this.epoch = openEpoch(this.db, options.synchronous);
    this.hints = new SqliteHintStore(this.db, options.hintLimits ?? DEFAULT_HINT_LIMITS, options.nowMs);
    this.selectObject = this.db.prepare('SELECT object FROM objects WHERE key = ?');
    this.countObjects = this.db.prepare('SELECT count(*) AS n FROM objects');
    const upsert = this.db.prepare(
      `INSERT INTO objects (key, object, deleted, updated_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET object = excluded.object, deleted = excluded.deleted, updated_ms = excluded.updated_ms`,
    );
    const commitBatch = this.db.transaction((batch: ReadonlyMap<string, VersionedObject>, nowMs: number) => {
      for (const [key, object] of batch) upsert.run(key, encodeObject(object), isDeleted(object) ? 1 : 0, nowMs);
    });
    this.queue = new GroupCommitQueue((batch) => {
      try {
        commitBatch(batch, options.nowMs());
      } catch (error) {
        throw storageError(error, `committing ${batch.size} writes`);
      }
    }, options.schedule ?? nextTurn);
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

  put(key: string, object: VersionedObject): Promise<void> {
    return this.queue.enqueue(key, object);
  }

  stats(): StoreStats {
    return this.queue.stats();
  }

  keyCount(): number {
    return this.countObjects.get()!.n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    this.db.prepare("UPDATE meta SET value = '1' WHERE name = 'clean_stop'").run();
    this.db.close();
  }
}
