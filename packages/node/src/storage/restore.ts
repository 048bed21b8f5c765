/**
 * Offline restore of a node's database from a snapshot (storage/snapshot.ts), run by
 * `ringkv restore` while the node is stopped. docs/operations.md gives the procedure and the
 * reasoning; in short, a restored node is treated like a node back from an old disk:
 *
 * - **No reused dots.** The restored database loses its epoch, so the node starts under a new
 *   one, exactly as on a new database. Every row's actor was made under the old epoch, so the
 *   node's next write of any key takes a fresh actor (core/actor.ts): it can never issue a dot
 *   that one it issued after the snapshot already used.
 * - **No resurrection.** A tombstone is reaped only once it has been dead for the tombstone
 *   grace and every member holds it or nothing, and reaping pauses while any member is down.
 *   A snapshot younger than the grace (less the 30 s clock-skew window) therefore predates
 *   every tombstone reaped since: a value in it whose tombstone was written after it cannot
 *   have been reaped anywhere yet, so the restored value meets its tombstone again and loses.
 *   Older snapshots are refused. Hints are dropped: a hint the old node delivered after the
 *   snapshot must not be delivered again after its tombstone was reaped (a wiped disk loses
 *   them the same way).
 * - **Identity kept.** Only `ringkv.db` (and its -wal/-shm) is replaced; the admin token,
 *   cluster secret and removal records in the directory stay. The old database is moved aside
 *   into `pre-restore-<time>/`, never deleted. The snapshot must be of the same node id, and a
 *   directory marked `removed` is refused (a removed identity never comes back).
 * - **Running node refused.** The node holds its database with an exclusive lock; if the lock
 *   is held, the restore stops with KV_ERR_DATA_DIR and changes nothing.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KvError } from '../errors.js';
import { checkNotRemoved } from '../membership/removals.js';
import { DEAD_CLOCK_SKEW_MS } from './store.js';
import { DATABASE_FILE } from './sqlite-store.js';
import { checkSnapshotFile, SNAPSHOT_TAKEN_META, type SnapshotInfo } from './snapshot.js';
import { fsyncPath } from './fsync-path.js';

export interface RestoreOptions {
  /** The snapshot file. */
  readonly from: string;
  /** The stopped node's data directory (created if missing: a replaced disk). */
  readonly dir: string;
  /** The ring's tombstone grace (--tombstone-grace-ms of its nodes). */
  readonly tombstoneGraceMs: number;
  readonly nowMs: number;
}

export interface RestoreResult {
  readonly snapshot: SnapshotInfo;
  readonly ageMs: number;
  /** Where the replaced database went, if there was one. */
  readonly movedAside: string | undefined;
  readonly hintsDropped: number;
}

/** The oldest snapshot a restore accepts, for a ring with this tombstone grace. */
export function snapshotAgeMaxMs(tombstoneGraceMs: number): number {
  return Math.max(0, tombstoneGraceMs - DEAD_CLOCK_SKEW_MS);
}

/** The node id in the database at `path`, or throws KV_ERR_DATA_DIR when a node holds it open. */
function probeExisting(path: string): string | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
    return (db.prepare("SELECT value FROM meta WHERE name = 'node_id'").get() as { value: string } | undefined)?.value;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new KvError('KV_ERR_DATA_DIR', `${path} is locked: a node is running on this directory; stop it before restoring`, { path });
    }
    return undefined; // Unreadable or damaged: that is what a restore is for. It is moved aside.
  } finally {
    db?.close();
  }
}

/** Drops the epoch (a new one at next start), the hints, and notes the restore. */
function prepareCopy(path: string, info: SnapshotInfo, nowMs: number): number {
  const db = new Database(path, { timeout: 0 });
  try {
    return db.transaction(() => {
      db.prepare("DELETE FROM meta WHERE name IN ('epoch', ?)").run(SNAPSHOT_TAKEN_META);
      db.prepare("INSERT INTO meta (name, value) VALUES ('restored', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value").run(JSON.stringify({ atMs: nowMs, snapshotTakenMs: info.takenMs }));
      return db.prepare('DELETE FROM hints').run().changes;
    })();
  } finally {
    db.pragma('journal_mode = DELETE');
    db.close();
  }
}

/** Puts the snapshot `from` in place as the database of the stopped node in `dir`. */
export function restoreSnapshot(options: RestoreOptions): RestoreResult {
  const info = checkSnapshotFile(options.from);
  if (info.takenMs === undefined) {
    throw new KvError('KV_ERR_BAD_REQUEST', `${options.from} does not say when it was taken: only files from ringkv snapshot can be restored`, { path: options.from });
  }
  const ageMs = options.nowMs - info.takenMs;
  const ageMaxMs = snapshotAgeMaxMs(options.tombstoneGraceMs);
  if (ageMs > ageMaxMs) {
    throw new KvError(
      'KV_ERR_BAD_REQUEST',
      `the snapshot is ${Math.round(ageMs / 1000)} s old, older than the tombstone grace allows (${Math.round(ageMaxMs / 1000)} s): keys deleted and reaped since could come back. Start the node on an empty directory instead; anti-entropy rebuilds it`,
      { ageMs, ageMaxMs },
    );
  }
  checkNotRemoved(options.dir, info.nodeId); // a removed identity never rejoins, restored or not
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const target = join(options.dir, DATABASE_FILE);
  let movedAside: string | undefined;
  if (existsSync(target)) {
    const owner = probeExisting(target);
    if (owner !== undefined && owner !== info.nodeId) {
      throw new KvError('KV_ERR_DATA_DIR', `${target} belongs to node "${owner}", the snapshot to "${info.nodeId}"`, { dir: options.dir, owner, snapshotNode: info.nodeId });
    }
  }
  // Copy and prepare first, beside the target: a failure here leaves the old database in place.
  const staging = `${target}.restoring`;
  rmSync(staging, { force: true });
  copyFileSync(options.from, staging);
  const hintsDropped = prepareCopy(staging, info, options.nowMs);
  fsyncPath(staging);
  if (existsSync(target)) {
    movedAside = join(options.dir, `pre-restore-${new Date(options.nowMs).toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(movedAside, { mode: 0o700 });
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, join(movedAside, `${DATABASE_FILE}${suffix}`));
    }
  }
  renameSync(staging, target);
  fsyncPath(options.dir);
  return { snapshot: info, ageMs, movedAside, hintsDropped };
}
