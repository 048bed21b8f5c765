/**
 * Makes commits durable off the event loop (issue 7's profile: with SQLite's own
 * `synchronous = FULL` every group commit fsynced the WAL inside the transaction, on the
 * event-loop thread, about 0.3 ms here and several ms when three nodes share the disk, while
 * no request could be served).
 *
 * Instead the connection runs with `synchronous = NORMAL` (a commit only write()s its frames
 * to the WAL) and a write is acknowledged once an fsync of the WAL file, run on libuv's thread
 * pool, has completed after its commit. fsync flushes the file, whichever descriptor wrote
 * it, so that fsync makes the commit durable exactly as SQLite's would; SQLite with NORMAL
 * still fsyncs the WAL before each checkpoint and the database after it, so checkpoints never
 * lose a frame this syncer reported durable. The directory is fsynced once, at the first sync,
 * so the WAL file's own entry is durable too (SQLite does the same for a new WAL under FULL).
 *
 * Syncs are grouped the way commits are: while one fsync runs, every caller that arrives
 * waits for the single next one (its commit may have been written after the running fsync
 * began), so at most one fsync runs and one waits, whatever the write rate. Meanwhile the
 * event loop keeps serving reads and committing the next batch.
 *
 * A failed fsync cannot be retried safely (Linux may already have dropped the dirty pages and
 * report the next fsync as clean): the syncer fails for good, every sync after it rejects with
 * KV_ERR_STORAGE, and the node must be restarted (SQLite then recovers from what is on disk).
 */
import { closeSync, fsync, openSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { KvError } from '../errors.js';

/** Flushes an open file to stable storage (fs.fsync, injectable for tests). */
export type FileSync = (fd: number) => Promise<void>;

export const fsyncFile: FileSync = (fd) => new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));

export class WalSync {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private failure: KvError | undefined;
  private dirSynced = false;
  private fd: number | undefined;
  private counters = { syncs: 0 };

  /**
   * `walPath` must exist (the database is open in WAL mode and has been written); it is
   * opened read-only: fsync needs no write access.
   */
  constructor(
    private readonly walPath: string,
    private readonly syncFile: FileSync = fsyncFile,
  ) {
    try {
      this.fd = openSync(walPath, constants.O_RDONLY);
    } catch (error) {
      throw new KvError('KV_ERR_STORAGE', `opening the write-ahead log ${walPath}: ${(error as Error).message}`, { path: walPath }, { cause: error });
    }
  }

  /** The error that stopped the syncer for good, if an fsync failed. */
  get failed(): KvError | undefined {
    return this.failure;
  }

  /** fsyncs completed since start. */
  get syncs(): number {
    return this.counters.syncs;
  }

  /** Resolves once everything written to the WAL before this call is on stable storage. */
  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.queued !== undefined) return this.queued;
    const running = this.running;
    if (running === undefined) return this.begin();
    // The running fsync may have started before the caller's commit: wait for the next.
    this.queued = running.then(
      () => this.next(),
      () => this.next(),
    );
    return this.queued;
  }

  private next(): Promise<void> {
    this.queued = undefined;
    return this.failure !== undefined ? Promise.reject(this.failure) : this.begin();
  }

  private begin(): Promise<void> {
    const run = this.flush().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async flush(): Promise<void> {
    if (this.fd === undefined) throw new KvError('KV_ERR_SHUTTING_DOWN', 'the store is closed; the node is stopping');
    try {
      await this.syncFile(this.fd);
      if (!this.dirSynced) {
        const dir = openSync(dirname(this.walPath), constants.O_RDONLY);
        try {
          await this.syncFile(dir);
        } finally {
          closeSync(dir);
        }
        this.dirSynced = true;
      }
      this.counters.syncs++;
    } catch (error) {
      this.failure ??= new KvError(
        'KV_ERR_STORAGE',
        `fsync of ${this.walPath} failed (${(error as Error).message}); writes are refused until the node restarts`,
        { path: this.walPath },
        { cause: error },
      );
      throw this.failure;
    }
  }

  /** Waits for the syncs under way, then closes the WAL descriptor. Idempotent. */
  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.queued]);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
