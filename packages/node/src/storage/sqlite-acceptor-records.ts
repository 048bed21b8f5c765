/**
 * Acceptor records in SQLite (table `paxos`, migration 6; the mark in `meta`). Each write is
 * its own small autocommit transaction, then waits for an fsync of the WAL begun after it
 * (wal-sync.ts, shared with group commit: concurrent records share one fsync). Unlike object
 * writes this holds under `--sync normal` too: a replica that forgot a promise after a power
 * loss lets two proposers both win, which no later repair can undo, whereas a lost causal write
 * is only a lost write (docs/cas.md, docs/storage.md).
 */
import type Database from 'better-sqlite3';
import { KvError } from '../errors.js';
import { DecodeError } from '../core/bytes.js';
import type { AcceptorRecord } from '../consensus/acceptor.js';
import type { CasValue } from '../consensus/cas-value.js';
import { decodeAcceptorRecord, encodeAcceptorRecord } from '../consensus/codec.js';
import type { AcceptorRecordStore, LayoutMark } from './acceptor-records.js';
import { storageError } from './storage-error.js';

const MARK_NAME = 'paxos_ballot_mark';
const LAYOUT_NAME = 'paxos_layout';
const HANDED_OVER_NAME = 'paxos_handed_over';
/** Handed-over members kept at most (the map only ever holds members that left and are not yet forgotten). */
const HANDED_OVER_MAX = 1_024;

export class SqliteAcceptorRecords implements AcceptorRecordStore {
  private readonly select: Database.Statement<[string], { record: Buffer }>;
  private readonly upsert: Database.Statement<[string, Uint8Array]>;
  private readonly selectMark: Database.Statement<[string], { value: string }>;
  private readonly upsertMark: Database.Statement<[string, string]>;
  private readonly countRows: Database.Statement<[], { n: number }>;
  private readonly selectKeys: Database.Statement<[], { key: string }>;
  private readonly selectPage: Database.Statement<[string, number], { key: string; record: Buffer }>;

  constructor(db: Database.Database, private readonly durable: () => Promise<void>, private readonly refused: () => Error | undefined) {
    this.select = db.prepare('SELECT record FROM paxos WHERE key = ?');
    this.upsert = db.prepare('INSERT INTO paxos (key, record) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET record = excluded.record');
    this.selectMark = db.prepare('SELECT value FROM meta WHERE name = ?');
    this.upsertMark = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    this.countRows = db.prepare('SELECT count(*) AS n FROM paxos');
    this.selectKeys = db.prepare('SELECT key FROM paxos');
    this.selectPage = db.prepare('SELECT key, record FROM paxos WHERE key > ? ORDER BY key LIMIT ?');
  }

  get(key: string): AcceptorRecord<CasValue> | undefined {
    let row: { record: Buffer } | undefined;
    try {
      row = this.select.get(key);
    } catch (error) {
      throw storageError(error, 'reading an acceptor record');
    }
    if (row === undefined) return undefined;
    return this.decode(row.record);
  }

  private decode(bytes: Buffer): AcceptorRecord<CasValue> {
    try {
      return decodeAcceptorRecord(bytes);
    } catch (error) {
      if (error instanceof DecodeError) throw new KvError('KV_ERR_STORAGE_CORRUPT', `the acceptor record of a key does not decode: ${error.message}`);
      throw error;
    }
  }

  put(key: string, record: AcceptorRecord<CasValue>): Promise<void> {
    return this.write(() => this.upsert.run(key, encodeAcceptorRecord(record)), 'writing an acceptor record');
  }

  ballotMark(): number {
    const value = this.selectMark.get(MARK_NAME)?.value;
    const mark = value === undefined ? 0 : Number(value);
    if (!Number.isSafeInteger(mark) || mark < 0) throw new KvError('KV_ERR_STORAGE_CORRUPT', `the stored ballot mark ${value} is not a counter`);
    return mark;
  }

  putBallotMark(mark: number): Promise<void> {
    if (mark <= this.ballotMark()) return this.durable();
    return this.write(() => this.upsertMark.run(MARK_NAME, String(mark)), 'writing the ballot mark');
  }

  count(): number {
    return this.countRows.get()!.n;
  }

  keys(): string[] {
    try {
      return this.selectKeys.all().map((row) => row.key);
    } catch (error) {
      throw storageError(error, 'listing acceptor records');
    }
  }

  page(after: string, limit: number): Array<{ key: string; record: AcceptorRecord<CasValue> }> {
    let rows: Array<{ key: string; record: Buffer }>;
    try {
      rows = this.selectPage.all(after, limit);
    } catch (error) {
      throw storageError(error, 'reading acceptor records');
    }
    return rows.map((row) => ({ key: row.key, record: this.decode(row.record) }));
  }

  layoutMark(): LayoutMark {
    const value = this.selectMark.get(LAYOUT_NAME)?.value;
    if (value === undefined) return { digest: 0, generation: 0, learned: false };
    const [digest, generation, learned] = value.split(':').map(Number);
    if (!Number.isSafeInteger(digest) || !Number.isSafeInteger(generation) || digest! < 0 || generation! < 0 || (learned !== 0 && learned !== 1)) throw new KvError('KV_ERR_STORAGE_CORRUPT', `the stored compare-and-set layout ${value} is not a digest, a generation and a flag`);
    return { digest: digest!, generation: generation!, learned: learned === 1 };
  }

  putLayoutMark(mark: LayoutMark): Promise<void> {
    return this.write(() => this.upsertMark.run(LAYOUT_NAME, `${mark.digest}:${mark.generation}:${mark.learned ? 1 : 0}`), 'writing the compare-and-set layout');
  }

  handedOver(): ReadonlyMap<string, number> {
    const value = this.selectMark.get(HANDED_OVER_NAME)?.value;
    if (value === undefined) return new Map();
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    const valid = Array.isArray(parsed) && parsed.length <= HANDED_OVER_MAX && parsed.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && Number.isSafeInteger(e[1]) && e[1] >= 0);
    if (!valid) throw new KvError('KV_ERR_STORAGE_CORRUPT', 'the stored list of members that handed their compare-and-set records over is not a list of [id, incarnation]');
    return new Map(parsed as Array<[string, number]>);
  }

  putHandedOver(members: ReadonlyMap<string, number>): Promise<void> {
    const entries = [...members].slice(-HANDED_OVER_MAX);
    return this.write(() => this.upsertMark.run(HANDED_OVER_NAME, JSON.stringify(entries)), 'writing the members that handed their records over');
  }

  private write(run: () => void, what: string): Promise<void> {
    // After a failed fsync nothing is acknowledged as durable any more (wal-sync.ts).
    const failed = this.refused();
    if (failed !== undefined) return Promise.reject(failed);
    try {
      run();
    } catch (error) {
      return Promise.reject(storageError(error, what));
    }
    return this.durable();
  }
}
