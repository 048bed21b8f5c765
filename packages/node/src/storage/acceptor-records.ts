/**
 * Where a replica keeps its Paxos acceptor records (one per CAS key: promised ballot, accepted
 * and committed states, the layout fence; consensus/acceptor.ts) and the node's ballot clock
 * mark (consensus/ballot.ts). Paxos is safe only if a promise or an acceptance outlives a
 * crash, so `put` resolves only once the record is on stable storage: the acceptor service
 * sends its reply after that (docs/cas.md "Ballots and durability"). Records live apart from
 * the causal objects (docs/cas.md "A plain PUT to a CAS key").
 */
import type { AcceptorRecord } from '../consensus/acceptor.js';
import type { CasValue } from '../consensus/cas-value.js';

export interface AcceptorRecordStore {
  /** The key's record as last written (a write in flight included); undefined: never took part. */
  get(key: string): AcceptorRecord<CasValue> | undefined;
  /** Writes the key's record; resolves once it is durable. */
  put(key: string, record: AcceptorRecord<CasValue>): Promise<void>;
  /** The ballot clock's last persisted high-water mark (0 on a fresh node). */
  ballotMark(): number;
  /** Persists a new high-water mark; resolves once durable. A lower mark than the stored one is ignored. */
  putBallotMark(mark: number): Promise<void>;
  /** Keys with a record (for metrics and tests). */
  count(): number;
  /** Every key with a record (a leaving node's handover; docs/cas.md). */
  keys(): string[];
  /** Up to `limit` records of keys after `after` in byte order ('' from the first): a full learn's page. */
  page(after: string, limit: number): Array<{ key: string; record: AcceptorRecord<CasValue> }>;
  /**
   * The layout this replica last took part in (replication/cas-layout.ts): its ring's digest
   * and a generation bumped at every change of ring; { 0, 0 } on a fresh or wiped node.
   */
  layoutMark(): LayoutMark;
  /** Persists the layout mark; resolves once durable. */
  putLayoutMark(mark: LayoutMark): Promise<void>;
  /**
   * Members that left and told this replica they handed every acceptor record over, with the
   * incarnation they left at (docs/cas.md "A leave hands records over"): a learn no longer
   * waits for them.
   */
  handedOver(): ReadonlyMap<string, number>;
  /** Persists the whole map of handed-over members; resolves once durable. */
  putHandedOver(members: ReadonlyMap<string, number>): Promise<void>;
}

/** A ring digest and this replica's generation for it (docs/cas.md "Membership changes"). */
export interface LayoutMark {
  readonly digest: number;
  readonly generation: number;
  /** Every key was learned from every member at this generation (the full learn is done). */
  readonly learned: boolean;
}

/** The in-memory twin: nothing outlives the process, so "durable" is "stored". */
export class MemoryAcceptorRecords implements AcceptorRecordStore {
  private readonly records = new Map<string, AcceptorRecord<CasValue>>();
  private mark = 0;
  private layout: LayoutMark = { digest: 0, generation: 0, learned: false };
  private departed = new Map<string, number>();

  get(key: string): AcceptorRecord<CasValue> | undefined {
    return this.records.get(key);
  }

  put(key: string, record: AcceptorRecord<CasValue>): Promise<void> {
    this.records.set(key, record);
    return Promise.resolve();
  }

  ballotMark(): number {
    return this.mark;
  }

  putBallotMark(mark: number): Promise<void> {
    this.mark = Math.max(this.mark, mark);
    return Promise.resolve();
  }

  count(): number {
    return this.records.size;
  }

  keys(): string[] {
    return [...this.records.keys()];
  }

  page(after: string, limit: number): Array<{ key: string; record: AcceptorRecord<CasValue> }> {
    // Byte order of the UTF-8 keys, as SQLite's BINARY collation orders them.
    const bytes = (key: string) => Buffer.from(key);
    const from = bytes(after);
    return [...this.records.keys()]
      .filter((key) => Buffer.compare(bytes(key), from) > 0)
      .sort((a, b) => Buffer.compare(bytes(a), bytes(b)))
      .slice(0, limit)
      .map((key) => ({ key, record: this.records.get(key)! }));
  }

  layoutMark(): LayoutMark {
    return this.layout;
  }

  putLayoutMark(mark: LayoutMark): Promise<void> {
    this.layout = { ...mark };
    return Promise.resolve();
  }

  handedOver(): ReadonlyMap<string, number> {
    return this.departed;
  }

  putHandedOver(members: ReadonlyMap<string, number>): Promise<void> {
    this.departed = new Map(members);
    return Promise.resolve();
  }
}
