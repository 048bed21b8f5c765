/**
 * Snapshots of a node's database, and what a restore checks before it puts one in place.
 *
 * The node holds its SQLite file with `locking_mode = EXCLUSIVE` (sqlite-store.ts), so no other
 * process can read it while it runs: a snapshot is taken by the node itself, through SQLite's
 * online backup API on its own connection, into a temporary file in its data directory (the
 * backup restarts itself when the connection writes meanwhile, so the copy is one consistent
 * state of committed data). The HTTP route streams that file and deletes it.
 *
 * A restore (restore.ts) is offline: it checks the file with `checkSnapshotFile` first.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KvError } from '../errors.js';
import { schemaVersion } from './migrations.js';

/** A snapshot written into the node's data directory, to be streamed and then deleted. */
export interface SnapshotFile {
  readonly path: string;
  readonly bytes: number;
  /** The node whose database it is. */
  readonly nodeId: string;
  /** When the backup finished, on this node's clock. */
  readonly takenMs: number;
}

/** Temporary snapshot files are named `SNAPSHOT_PREFIX<random>.tmp` inside the data directory. */
export const SNAPSHOT_PREFIX = 'snapshot-';
const SNAPSHOT_SUFFIX = '.tmp';

/** A fresh temporary snapshot path in `dir` (a name no other snapshot in flight has). */
export function snapshotPath(dir: string): string {
  return join(dir, `${SNAPSHOT_PREFIX}${randomBytes(6).toString('hex')}${SNAPSHOT_SUFFIX}`);
}

/**
 * Deletes snapshot files a previous life of the node left behind (it stopped mid-snapshot):
 * nobody can be streaming them any more. Best effort.
 */
export function removeStaleSnapshots(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    // The copy's own -wal, -shm or -journal too, if the stop came while it was open.
    if (name.startsWith(SNAPSHOT_PREFIX) && /\.tmp(-wal|-shm|-journal)?$/.test(name)) rmSync(join(dir, name), { force: true });
  }
}

/** The `meta` row where a snapshot records when it was taken (only snapshots have it). */
export const SNAPSHOT_TAKEN_META = 'snapshot_taken_ms';

/** What `checkSnapshotFile` found in a good snapshot. */
export interface SnapshotInfo {
  readonly nodeId: string;
  readonly schemaVersion: number;
  /** When the snapshot was taken (node's clock), if it says. */
  readonly takenMs: number | undefined;
  readonly keys: number;
}

/**
 * Checks that `path` is a whole ringkv database: SQLite's `integrity_check`, a schema version
 * this ringkv knows, the ringkv tables, a node id. Opens the file read-only; throws
 * KV_ERR_STORAGE_CORRUPT with the reason otherwise.
 */
export function checkSnapshotFile(path: string): SnapshotInfo {
  let db: Database.Database | undefined;
  const corrupt = (why: string) => new KvError('KV_ERR_STORAGE_CORRUPT', `${path} is not a usable ringkv snapshot: ${why}`, { path });
  if (!existsSync(path)) throw new KvError('KV_ERR_BAD_REQUEST', `${path}: no such file`, { path });
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
    const integrity = db.pragma('integrity_check(1)', { simple: true });
    if (integrity !== 'ok') throw corrupt(`integrity check: ${String(integrity)}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < 1 || version > schemaVersion) throw corrupt(`schema version ${version} (this ringkv knows 1 to ${schemaVersion})`);
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((row) => row.name));
    for (const table of ['objects', 'hints', 'meta']) if (!tables.has(table)) throw corrupt(`no ${table} table`);
    const meta = (name: string) => (db!.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined)?.value;
    const nodeId = meta('node_id');
    if (nodeId === undefined) throw corrupt('no node id');
    const taken = meta(SNAPSHOT_TAKEN_META);
    const keys = (db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
    return { nodeId, schemaVersion: version, takenMs: taken === undefined ? undefined : Number(taken), keys };
  } catch (error) {
    if (error instanceof KvError) throw error;
    throw corrupt((error as Error).message);
  } finally {
    db?.close();
  }
}
