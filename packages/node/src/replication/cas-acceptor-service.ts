/**
 * The acceptor side of compare-and-set on one replica (docs/cas.md): runs the pure acceptor
 * step (consensus/acceptor.ts) for each Paxos message a proposer sends, over the key's durable
 * record. The record is written, and durable, BEFORE the reply is returned: the step's persist
 * effect demands it ("Paxos Made Simple" §2.3: an acceptor remembers what it promised and
 * accepted across failures). Messages for one key are applied one after another, each reading
 * the record the previous one left, so no reply ever reflects a record not yet durable.
 */
import { KvError } from '../errors.js';
import { EMPTY_ACCEPTOR_RECORD, stepAcceptor } from '../consensus/acceptor.js';
import type { CasValue } from '../consensus/cas-value.js';
import type { PaxosMessage } from '../consensus/messages.js';
import type { AcceptorRecordStore } from '../storage/acceptor-records.js';

/** Keys with a message being applied at once; past it a message is refused (the proposer retries). */
export const CAS_KEYS_IN_FLIGHT_MAX = 10_000;

export class CasAcceptorService {
  /** Per key, the end of the chain of messages being applied. */
  private readonly tails = new Map<string, Promise<unknown>>();
  private stepsCount = 0;

  constructor(private readonly records: AcceptorRecordStore, private readonly keysInFlightMax = CAS_KEYS_IN_FLIGHT_MAX) {}

  /** Applies a prepare, accept or commit; resolves with the reply (none for a commit) once durable. */
  step(message: PaxosMessage<CasValue>): Promise<PaxosMessage<CasValue> | undefined> {
    if (message.kind !== 'prepare' && message.kind !== 'accept' && message.kind !== 'commit') {
      return Promise.reject(new KvError('KV_ERR_BAD_REQUEST', `a ${message.kind} is a reply, not a request to an acceptor`));
    }
    const key = message.key;
    const previous = this.tails.get(key);
    if (previous === undefined && this.tails.size >= this.keysInFlightMax) {
      return Promise.reject(new KvError('KV_ERR_OVERLOADED', `${this.keysInFlightMax} compare-and-set keys are being written on this replica; retry`));
    }
    const run = (previous ?? Promise.resolve()).then(() => this.apply(message));
    const tail = run.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  /** Messages applied so far (metrics, tests). */
  get steps(): number {
    return this.stepsCount;
  }

  private async apply(message: PaxosMessage<CasValue>): Promise<PaxosMessage<CasValue> | undefined> {
    const record = this.records.get(message.key) ?? EMPTY_ACCEPTOR_RECORD;
    const { persist, reply } = stepAcceptor(record, message);
    if (persist !== undefined) await this.records.put(message.key, persist);
    this.stepsCount++;
    return reply;
  }
}
