/**
 * The acceptor side of compare-and-set on one replica (docs/cas.md): runs the pure acceptor
 * step (consensus/acceptor.ts) for each Paxos message a proposer sends, over the key's durable
 * record. The record is written, and durable, BEFORE the reply is returned: the step's persist
 * effect demands it ("Paxos Made Simple" §2.3: an acceptor remembers what it promised and
 * accepted across failures). Messages for one key are applied one after another, each reading
 * the record the previous one left, so no reply ever reflects a record not yet durable.
 *
 * Membership changes (docs/cas.md "Membership changes"), once a LayoutGuard is attached: a
 * message from a proposer whose ring differs from this replica's is refused (a layout nack),
 * and a key whose record was not learned or written at this replica's current generation is
 * first learned from EVERY other member of its ring, each answering only if it is at the same
 * layout; until that succeeds this replica does not answer for the key (its proposer counts it
 * as unreachable). A `learn` is served outside the per-key order, so two replicas learning one
 * key at once do not wait for each other.
 */
import { KvError } from '../errors.js';
import { EMPTY_ACCEPTOR_RECORD, stepAcceptor, type AcceptorRecord } from '../consensus/acceptor.js';
import { ZERO_BALLOT } from '../consensus/ballot.js';
import { joinLearned, type LearnedRecord } from '../consensus/learn.js';
import type { LayoutMark } from '../storage/acceptor-records.js';
import type { LayoutGuard } from './cas-layout.js';
import { casPlantedBugs } from './cas-planted-bugs.js';
import type { CasValue } from '../consensus/cas-value.js';
import type { PaxosMessage } from '../consensus/messages.js';
import type { AcceptorRecordStore } from '../storage/acceptor-records.js';

export { casPlantedBugs };

/** Records per page of a full learn. */
export const RECORDS_PAGE_KEYS = 256;
/** Records a leaving node hands over per leave step. */
export const HANDOVER_BATCH = 256;

/** Keys with a message being applied at once; past it a message is refused (the proposer retries). */
export const CAS_KEYS_IN_FLIGHT_MAX = 10_000;

export class CasAcceptorService {
  /** Per key, the end of the chain of messages being applied. */
  private readonly tails = new Map<string, Promise<unknown>>();
  private stepsCount = 0;
  private learnedCount = 0;
  private guard: LayoutGuard | undefined;
  /** Keys whose record this (leaving) node has handed to every owner. */
  private readonly handedOver = new Set<string>();
  /** Members this (leaving) node told it handed everything over. */
  private readonly told = new Set<string>();
  /** The generation whose full learn is under way or done, if any. */
  private fullLearn: number | undefined;
  /** Keys being learned now (at most keysInFlightMax). */
  private readonly learning = new Map<string, Promise<void>>();

  constructor(private readonly records: AcceptorRecordStore, private readonly keysInFlightMax = CAS_KEYS_IN_FLIGHT_MAX) {}

  /**
   * From now on rounds are fenced by layout and keys learned after a change of ring (the module
   * comment). Without it (unit tests of the bare acceptor) every message is stepped as sent.
   */
  attachLayout(guard: LayoutGuard): void {
    this.guard = guard;
  }

  /**
   * Applies a prepare, accept or commit; resolves with the reply (none for a commit) once
   * durable. `sender`: the node the message came from (authenticated by the transport); a
   * `handed-over` notice is taken only from the node it names.
   */
  step(message: PaxosMessage<CasValue>, sender?: string): Promise<PaxosMessage<CasValue> | undefined> {
    if (message.kind === 'learn') return this.serveLearn(message);
    if (message.kind === 'handed-over') return this.noteHandedOver(message, sender);
    if (message.kind === 'learn-all') return this.servePage(message);
    if (message.kind === 'adopt') return this.inOrder(message.key, () => this.adopt(message));
    if (message.kind !== 'prepare' && message.kind !== 'accept' && message.kind !== 'commit') {
      return Promise.reject(new KvError('KV_ERR_BAD_REQUEST', `a ${message.kind} is a reply, not a request to an acceptor`));
    }
    const key = message.key;
    const previous = this.tails.get(key);
    if (previous === undefined && this.tails.size >= this.keysInFlightMax) {
      return Promise.reject(new KvError('KV_ERR_OVERLOADED', `${this.keysInFlightMax} compare-and-set keys are being written on this replica; retry`));
    }
    return this.inOrder(key, () => this.apply(message));
  }

  /** Messages applied so far (metrics, tests). */
  get steps(): number {
    return this.stepsCount;
  }

  /** Keys learned from the ring after a change of layout, so far (metrics, tests). */
  get learned(): number {
    return this.learnedCount;
  }

  private async apply(message: PaxosMessage<CasValue> & { kind: 'prepare' | 'accept' | 'commit' }): Promise<PaxosMessage<CasValue> | undefined> {
    const record = this.records.get(message.key) ?? EMPTY_ACCEPTOR_RECORD;
    let stepped = message;
    if (this.guard !== undefined) {
      const mark = await this.guard.current();
      if (message.layout !== mark.digest && !casPlantedBugs.ignoreLayout) return message.kind === 'commit' ? undefined : layoutNack(message, record, mark);
      if (!mark.learned) this.startFullLearn(this.guard, mark);
      if (record.layoutMin !== mark.generation && !mark.learned && !casPlantedBugs.answerWithoutLearning) {
        // Learning waits for every other member of the ring, so it runs beside the message,
        // not in the key's order: a peer's answer may sit in a batch behind its own messages
        // for this key, which may wait for this replica's answer to ITS learn. The proposer
        // counts this refusal as unreachable and tries again after its backoff. A lost commit
        // is harmless, so a commit does not start a learn.
        if (message.kind !== 'commit') this.startLearning(this.guard, message.key, mark);
        if (message.kind === 'commit') return undefined;
        throw new KvError('KV_ERR_QUORUM_UNMET', 'this replica is learning the key after a change of ring; retry', { key: message.key });
      }
      // The fence is by digest above; the core's layout number is this replica's generation.
      stepped = { ...message, layout: mark.generation };
    }
    const { persist, reply } = stepAcceptor(record, stepped);
    if (persist !== undefined) await this.records.put(message.key, persist);
    this.stepsCount++;
    return reply;
  }

  /**
   * Learns every key at `mark` (the full learn), unless one is under way: pages of every
   * other member's records (learn-all), each joined into this replica's record of its key;
   * once every member answered to the end, the generation is marked learned (durably) and a
   * key with no record here is known to have no state from an earlier layout, so it needs no
   * learn of its own. A failure is dropped: the next message starts another.
   */
  private startFullLearn(guard: LayoutGuard, mark: LayoutMark): void {
    if (this.fullLearn === mark.generation) return;
    this.fullLearn = mark.generation;
    const fail = () => {
      if (this.fullLearn === mark.generation) this.fullLearn = undefined;
    };
    void this.learnAll(guard, mark).then(() => guard.markLearned(mark.generation)).then(fail, fail);
  }

  private async learnAll(guard: LayoutGuard, mark: LayoutMark): Promise<void> {
    await Promise.all(
      guard.peers().map(async (peer) => {
        let after = '';
        for (;;) {
          const page = await guard.ask(peer, { kind: 'learn-all', key: after, ballot: ZERO_BALLOT, layout: mark.digest });
          if (page?.kind !== 'records') throw new KvError('KV_ERR_QUORUM_UNMET', `${peer} did not answer a full learn at this layout`);
          for (const entry of page.entries) {
            await this.inOrder(entry.key, async () => {
              const record = this.records.get(entry.key) ?? EMPTY_ACCEPTOR_RECORD;
              await this.records.put(entry.key, joinLearned(record, [entry], record.layoutMin));
            });
          }
          if (page.done || page.entries.length === 0) return;
          after = page.entries.at(-1)!.key;
        }
      }),
    );
    if ((await guard.current()).generation !== mark.generation) throw new KvError('KV_ERR_QUORUM_UNMET', 'the ring changed during the full learn');
  }

  /** A page of this replica's records for another replica's full learn, if the rings agree. */
  private async servePage(message: PaxosMessage<CasValue> & { kind: 'learn-all' }): Promise<PaxosMessage<CasValue>> {
    const empty = { kind: 'nack', key: message.key, ballot: message.ballot, reason: 'layout', promised: ZERO_BALLOT } as const;
    if (this.guard === undefined) return { ...empty, layoutMin: 0 };
    const mark = await this.guard.current();
    if (message.layout !== mark.digest) return { ...empty, layoutMin: mark.digest };
    const rows = this.records.page(message.key, RECORDS_PAGE_KEYS);
    const entries = rows.map(({ key, record }) => ({ key, promised: record.promised, accepted: record.accepted, committed: record.committed }));
    return { kind: 'records', key: message.key, ballot: ZERO_BALLOT, entries, done: rows.length < RECORDS_PAGE_KEYS };
  }

  /** Learns `key` at `mark` unless a learn of it is under way; failures are dropped (the next message starts another). */
  private startLearning(guard: LayoutGuard, key: string, mark: LayoutMark): void {
    if (this.learning.has(key) || this.learning.size >= this.keysInFlightMax) return;
    const done = this.learn(guard, key, mark).catch(() => undefined).finally(() => this.learning.delete(key));
    this.learning.set(key, done);
  }

  /**
   * Learns `key` from every other member of the ring at `mark`: their records joined with
   * this one's (consensus/learn.ts), written in the key's order and durable before any round
   * is answered from it. Any member that does not answer at this layout leaves the key
   * unlearned (KV_ERR_QUORUM_UNMET).
   */
  private async learn(guard: LayoutGuard, key: string, mark: LayoutMark): Promise<void> {
    const peers = guard.peers();
    const message: PaxosMessage<CasValue> = { kind: 'learn', key, ballot: ZERO_BALLOT, layout: mark.digest };
    const answers = await Promise.all(peers.map((peer) => guard.ask(peer, message)));
    const learned: LearnedRecord<CasValue>[] = [];
    const missing = peers.filter((_, i) => answers[i]?.kind !== 'record');
    if (missing.length > 0) {
      throw new KvError('KV_ERR_QUORUM_UNMET', `this replica answers for the key only once it learned it from every member of its ring; ${missing.join(', ')} did not answer at this layout`, { missing: missing.join(',') });
    }
    for (const answer of answers) if (answer?.kind === 'record') learned.push(answer);
    await this.inOrder(key, async () => {
      const record = this.records.get(key) ?? EMPTY_ACCEPTOR_RECORD;
      if ((await guard.current()).generation !== mark.generation || record.layoutMin === mark.generation) return;
      await this.records.put(key, joinLearned(record, learned, mark.generation));
      this.learnedCount++;
    });
  }

  /** Runs `work` after every message of `key` before it, and before any after it. */
  private inOrder<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const run = (previous ?? Promise.resolve()).then(work);
    const tail = run.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  /**
   * A leaving replica's record joined into this one's (consensus/learn.ts), at this record's
   * own generation: adopting states other acceptors accepted is always safe, and a record not
   * learned at the current layout stays not learned.
   */
  private async adopt(message: PaxosMessage<CasValue> & { kind: 'adopt' }): Promise<PaxosMessage<CasValue>> {
    const record = this.records.get(message.key) ?? EMPTY_ACCEPTOR_RECORD;
    await this.records.put(message.key, joinLearned(record, [message], record.layoutMin));
    return { kind: 'accepted', key: message.key, ballot: ZERO_BALLOT };
  }

  /**
   * One step of a leave (replication/leave.ts): hands up to `batch` records not handed over yet
   * to every owner of their key on this node's current ring (which no longer holds it). True
   * once every record is in the hands of all its owners. This node's ring is the new one before
   * it hands anything (guard.current), so its records no longer change: it refuses every round
   * from another ring, and proposers on its ring do not ask it.
   */
  async handOverOnce(batch = HANDOVER_BATCH): Promise<boolean> {
    const guard = this.guard;
    if (guard === undefined) return true;
    await guard.current();
    const waiting = () => this.records.keys().filter((key) => !this.handedOver.has(key));
    await Promise.all(
      waiting().slice(0, batch).map(async (key) => {
        const record = this.records.get(key) ?? EMPTY_ACCEPTOR_RECORD;
        const message: PaxosMessage<CasValue> = { kind: 'adopt', key, ballot: ZERO_BALLOT, promised: record.promised, accepted: record.accepted, committed: record.committed };
        const owners = guard.owners(key);
        const answers = await Promise.all(owners.map((owner) => guard.ask(owner, message)));
        if (answers.every((answer) => answer?.kind === 'accepted')) this.handedOver.add(key);
      }),
    );
    if (waiting().length > 0) return false;
    await this.announceHandedOver(guard);
    return true;
  }

  /**
   * Tells every other member of the ring that this (leaving) node handed every record over,
   * so their learns stop waiting for it until it is forgotten (docs/cas.md "A leave hands
   * records over"). Once per member that took it; best effort: a member that missed it waits
   * as before, until this node is forgotten (`leftRetainMs`), which is safe, only slower.
   */
  private async announceHandedOver(guard: LayoutGuard): Promise<void> {
    const message: PaxosMessage<CasValue> = { kind: 'handed-over', key: guard.selfId, ballot: ZERO_BALLOT, layout: guard.selfIncarnation() };
    const pending = guard.ringPeers().filter((peer) => !this.told.has(peer));
    const answers = await Promise.all(pending.map((peer) => guard.ask(peer, message)));
    pending.forEach((peer, i) => answers[i]?.kind === 'accepted' && this.told.add(peer));
  }

  /** A `handed-over` notice: recorded (durably) when it comes from the node it names. */
  private async noteHandedOver(message: PaxosMessage<CasValue> & { kind: 'handed-over' }, sender: string | undefined): Promise<PaxosMessage<CasValue>> {
    if (sender !== message.key) throw new KvError('KV_ERR_BAD_REQUEST', `a handed-over notice for ${message.key} came from ${sender ?? 'this node'}; only a node itself says it handed its records over`);
    if (this.guard === undefined || !(await this.guard.noteHandedOver(message.key, message.layout))) {
      return { kind: 'nack', key: message.key, ballot: message.ballot, reason: 'layout', promised: ZERO_BALLOT, layoutMin: 0 };
    }
    return { kind: 'accepted', key: message.key, ballot: ZERO_BALLOT };
  }

  /** Another replica learns the key: this one's record as it stands, if the rings agree. */
  private async serveLearn(message: PaxosMessage<CasValue> & { kind: 'learn' }): Promise<PaxosMessage<CasValue>> {
    const record = this.records.get(message.key) ?? EMPTY_ACCEPTOR_RECORD;
    if (this.guard === undefined) return { kind: 'nack', key: message.key, ballot: message.ballot, reason: 'layout', promised: record.promised, layoutMin: 0 };
    // Durable before the answer: from here on this replica refuses every other layout's rounds.
    const mark = await this.guard.current();
    if (message.layout !== mark.digest) return layoutNack(message, record, mark);
    return { kind: 'record', key: message.key, ballot: ZERO_BALLOT, promised: record.promised, accepted: record.accepted, committed: record.committed };
  }
}

function layoutNack(message: { key: string; ballot: PaxosMessage<CasValue>['ballot'] }, record: AcceptorRecord<CasValue>, mark: LayoutMark): PaxosMessage<CasValue> {
  return { kind: 'nack', key: message.key, ballot: message.ballot, reason: 'layout', promised: record.promised, layoutMin: mark.digest };
}
