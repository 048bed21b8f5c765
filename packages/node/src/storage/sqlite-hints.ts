/**
 * The durable HintStore, in the node's SQLite database (`hints` table). Adds arriving in the
 * same event-loop turn are committed in one transaction, like object writes (group commit);
 * an add resolves once its transaction committed (and the WAL fsync after it, under
 * `synchronous: 'full'`), or rejects with its own coded error.
 */
import type Database from 'better-sqlite3';
import { KvError } from '../errors.js';
import { decodeObject, encodeObject } from '../core/object-codec.js';
import { merge, type VersionedObject, type VersioningLimits } from '../core/versioned.js';
import { hintRefusal, type HintLimits, type HintStore, type StoredHint } from './hints.js';
import { storageError } from './storage-error.js';
import { TurnBatcher, type Scheduler } from '../core/turn-batcher.js';

interface Pending {
  readonly owner: string;
  readonly key: string;
  readonly object: VersionedObject;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Row {
  id: number;
  seq: number;
  owner: string;
  key: string;
  object: Buffer;
  created_ms: number;
  bytes: number;
}

export class SqliteHintStore implements HintStore {
  /** Adds of this turn, committed together (core/turn-batcher.ts). */
  private readonly turn: TurnBatcher<Pending[]>;
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly limits: HintLimits & VersioningLimits,
    private readonly nowMs: () => number,
    /** When a turn's adds are committed: the store's own scheduler (the event loop's turn). */
    schedule: Scheduler,
    /** Resolves once what was committed so far is durable (the WAL fsync); absent: commit is enough. */
    private readonly durable?: () => Promise<void>,
  ) {
    this.turn = new TurnBatcher<Pending[]>(schedule, () => [], (batch) => this.flush(batch));
    this.statements = {
      one: db.prepare<[string, string], Row>('SELECT * FROM hints WHERE owner = ? AND key = ?'),
      usage: db.prepare<[string], { n: number; bytes: number | null }>('SELECT count(*) AS n, sum(bytes) AS bytes FROM hints WHERE owner = ?'),
      upsert: db.prepare(
        `INSERT INTO hints (owner, key, object, created_ms, seq, bytes) VALUES (?, ?, ?, ?, 1, ?)
         ON CONFLICT (owner, key) DO UPDATE SET object = excluded.object, seq = seq + 1, bytes = excluded.bytes,
           created_ms = excluded.created_ms`,
      ),
      owners: db.prepare<[], { owner: string; n: number; bytes: number }>('SELECT owner, count(*) AS n, sum(bytes) AS bytes FROM hints GROUP BY owner'),
      take: db.prepare<[string, number], Row>('SELECT * FROM hints WHERE owner = ? ORDER BY id LIMIT ?'),
      remove: db.prepare<[number, number]>('DELETE FROM hints WHERE id = ? AND seq = ?'),
      expire: db.prepare<[number]>('DELETE FROM hints WHERE created_ms < ?'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM hints'),
      hasKey: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM hints WHERE key = ? LIMIT 1'),
    };
  }

  add(owner: string, key: string, object: VersionedObject): Promise<void> {
    const batch = this.turn.add();
    return new Promise<void>((resolve, reject) => batch.push({ owner, key, object, resolve, reject }));
  }

  /** Applies one add inside the batch transaction; returns the error that refused it, if any. */
  private applyOne(item: Pending, nowMs: number): KvError | undefined {
    const current = this.statements.one.get(item.owner, item.key);
    const merged = current === undefined ? item.object : merge(decodeObject(current.object, item.key), item.object, this.limits);
    const encoded = encodeObject(merged);
    const usage = this.statements.usage.get(item.owner)!;
    const refused = hintRefusal(item.owner, this.limits, current === undefined, usage.n, usage.bytes ?? 0, current?.bytes ?? 0, encoded.length);
    if (refused !== undefined) return refused;
    this.statements.upsert.run(item.owner, item.key, encoded, nowMs, encoded.length);
    return undefined;
  }

  private flush(batch: readonly Pending[]): void {
    const refused = new Map<Pending, KvError>();
    try {
      this.db.transaction(() => {
        const nowMs = this.nowMs();
        for (const item of batch) {
          const error = this.applyOne(item, nowMs);
          if (error !== undefined) refused.set(item, error);
        }
      })();
    } catch (error) {
      const coded = error instanceof KvError ? error : storageError(error, `storing ${batch.length} hints`);
      for (const item of batch) item.reject(coded);
      return;
    }
    const settle = (syncError?: unknown) => {
      for (const item of batch) {
        const error = refused.get(item) ?? syncError;
        if (error === undefined) item.resolve();
        else item.reject(error);
      }
    };
    if (this.durable === undefined || refused.size === batch.length) settle();
    else this.durable().then(() => settle(), settle);
  }

  owners(): Array<{ owner: string; count: number; bytes: number }> {
    return this.statements.owners.all().map((row) => ({ owner: row.owner, count: row.n, bytes: row.bytes }));
  }

  take(owner: string, limit: number): StoredHint[] {
    return this.statements.take.all(owner, limit).map((row) => ({
      id: row.id,
      seq: row.seq,
      owner: row.owner,
      key: row.key,
      object: decodeObject(row.object, row.key),
      createdMs: row.created_ms,
      bytes: row.bytes,
    }));
  }

  remove(delivered: ReadonlyArray<{ id: number; seq: number }>): number {
    let removed = 0;
    this.db.transaction(() => {
      for (const { id, seq } of delivered) removed += this.statements.remove.run(id, seq).changes;
    })();
    return removed;
  }

  expire(beforeMs: number): number {
    return this.statements.expire.run(beforeMs).changes;
  }

  count(): number {
    return this.statements.count.get()!.n;
  }

  hasKey(key: string): boolean {
    return this.turn.current.some((hint) => hint.key === key) || this.statements.hasKey.get(key) !== undefined;
  }
}
