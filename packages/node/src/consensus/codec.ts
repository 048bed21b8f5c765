/**
 * Binary forms of the Paxos pieces a server stores and sends (docs/cas.md): ballots, register
 * states, acceptor records (storage/acceptor-records.ts) and the messages of a round
 * (transport/messages.ts carries them in replica batches). Every field is bounded before it is
 * read; malformed input raises DecodeError, which each caller turns into its coded error
 * (KV_ERR_BAD_REQUEST from a peer, KV_ERR_STORAGE_CORRUPT from the disk). Each encoder only
 * produces what its decoder accepts. Pure.
 */
import { isNodeId, NODE_ID_BYTES_MAX, REQUEST_ID_BYTES_MAX } from '@ringkv/protocol';
import { ByteReader, ByteWriter, DecodeError } from '../core/bytes.js';
import type { AcceptorRecord } from './acceptor.js';
import type { Ballot } from './ballot.js';
import type { CasValue } from './cas-value.js';
import type { BallotedState, PaxosMessage } from './messages.js';
import { RECENT_REQUESTS_MAX, type RegisterState } from './register-state.js';

/** Longest request id (UTF-8 bytes): 16 of them stay small beside the value (docs/cas.md). */
export { REQUEST_ID_BYTES_MAX };
/** Largest register value a peer or the disk may hand us; the HTTP edge enforces the configured, smaller limit. */
export const CAS_VALUE_BYTES_HARD_MAX = 64 * 1024 * 1024;
const CONTENT_TYPE_BYTES_MAX = 1024;
const KEY_BYTES_HARD_MAX = 64 * 1024;
const RECORD_VERSION = 1;

/** The wire and disk form of a ballot: counter, then node id (empty only for the zero ballot). */
export function writeBallot(writer: ByteWriter, ballot: Ballot): void {
  writer.varint(ballot.counter).string(ballot.node);
}

export function readBallot(reader: ByteReader): Ballot {
  const counter = reader.varint();
  const node = reader.string(NODE_ID_BYTES_MAX);
  if (node === '' ? counter !== 0 : !isNodeId(node)) throw new DecodeError('bad ballot node');
  return { counter, node };
}

export function writeState(writer: ByteWriter, state: RegisterState<CasValue>): void {
  if (state.value === null) writer.u8(0);
  else writer.u8(1).string(state.value.contentType).bytes(state.value.data);
  writer.varint(state.version).varint(state.recent.length);
  for (const id of state.recent) writer.string(id);
}

export function readState(reader: ByteReader): RegisterState<CasValue> {
  const present = reader.u8();
  if (present > 1) throw new DecodeError(`bad value flag ${present}`);
  let value: CasValue | null = null;
  if (present === 1) {
    const contentType = reader.string(CONTENT_TYPE_BYTES_MAX);
    value = { contentType, data: new Uint8Array(reader.bytes(CAS_VALUE_BYTES_HARD_MAX)) };
  }
  const version = reader.varint();
  const count = reader.varint();
  if (count > RECENT_REQUESTS_MAX) throw new DecodeError(`${count} recent request ids exceed ${RECENT_REQUESTS_MAX}`);
  const recent = Array.from({ length: count }, () => reader.string(REQUEST_ID_BYTES_MAX));
  return { value, version, recent };
}

function writeBalloted(writer: ByteWriter, entry: BallotedState<CasValue> | undefined): void {
  if (entry === undefined) return void writer.u8(0);
  writeBallot(writer.u8(1), entry.ballot);
  writeState(writer, entry.state);
}

function readBalloted(reader: ByteReader): BallotedState<CasValue> | undefined {
  const flag = reader.u8();
  if (flag === 0) return undefined;
  if (flag !== 1) throw new DecodeError(`bad flag ${flag}`);
  const ballot = readBallot(reader);
  return { ballot, state: readState(reader) };
}

/** An acceptor's durable record of one key. */
export function encodeAcceptorRecord(record: AcceptorRecord<CasValue>): Uint8Array {
  const writer = new ByteWriter(64).u8(RECORD_VERSION);
  writeBallot(writer, record.promised);
  writeBalloted(writer, record.accepted);
  writeBalloted(writer, record.committed);
  return writer.varint(record.layoutMin).finish();
}

/** Raises DecodeError on a record this version did not write. */
export function decodeAcceptorRecord(bytes: Uint8Array): AcceptorRecord<CasValue> {
  const reader = new ByteReader(bytes);
  const version = reader.u8();
  if (version !== RECORD_VERSION) throw new DecodeError(`unknown acceptor record version ${version}`);
  const promised = readBallot(reader);
  const accepted = readBalloted(reader);
  const committed = readBalloted(reader);
  const layoutMin = reader.varint();
  if (!reader.done) throw new DecodeError('trailing bytes');
  return { promised, accepted, committed, layoutMin };
}

const MESSAGE_CODES = { prepare: 1, promise: 2, accept: 3, accepted: 4, nack: 5, commit: 6, learn: 7, record: 8, adopt: 9, 'learn-all': 10, records: 11, 'handed-over': 12 } as const;
const REASON_CODES = { ballot: 1, layout: 2 } as const;

/** One Paxos message, key included. */
export function writeMessage(writer: ByteWriter, message: PaxosMessage<CasValue>): void {
  writer.u8(MESSAGE_CODES[message.kind]).string(message.key);
  writeBallot(writer, message.ballot);
  switch (message.kind) {
    case 'prepare': return void writer.varint(message.layout);
    case 'promise': writeBalloted(writer, message.accepted); return writeBalloted(writer, message.committed);
    case 'accept':
    case 'commit': writer.varint(message.layout); return writeState(writer, message.state);
    case 'accepted': return;
    case 'nack':
      writer.u8(REASON_CODES[message.reason]);
      writeBallot(writer, message.promised);
      return void writer.varint(message.layoutMin);
    case 'learn':
    case 'handed-over':
    case 'learn-all': return void writer.varint(message.layout);
    case 'records':
      writer.u8(message.done ? 1 : 0).varint(message.entries.length);
      for (const entry of message.entries) {
        writer.string(entry.key);
        writeBallot(writer, entry.promised);
        writeBalloted(writer, entry.accepted);
        writeBalloted(writer, entry.committed);
      }
      return;
    case 'adopt':
    case 'record': writeBallot(writer, message.promised); writeBalloted(writer, message.accepted); return writeBalloted(writer, message.committed);
  }
}

export function readMessage(reader: ByteReader): PaxosMessage<CasValue> {
  const code = reader.u8();
  const key = reader.string(KEY_BYTES_HARD_MAX);
  const ballot = readBallot(reader);
  switch (code) {
    case MESSAGE_CODES.prepare: return { kind: 'prepare', key, ballot, layout: reader.varint() };
    case MESSAGE_CODES.promise: {
      const accepted = readBalloted(reader);
      return { kind: 'promise', key, ballot, accepted, committed: readBalloted(reader) };
    }
    case MESSAGE_CODES.accept:
    case MESSAGE_CODES.commit: {
      const layout = reader.varint();
      return { kind: code === MESSAGE_CODES.accept ? 'accept' : 'commit', key, ballot, layout, state: readState(reader) };
    }
    case MESSAGE_CODES.accepted: return { kind: 'accepted', key, ballot };
    case MESSAGE_CODES.nack: {
      const reasonCode = reader.u8();
      if (reasonCode !== REASON_CODES.ballot && reasonCode !== REASON_CODES.layout) throw new DecodeError(`unknown nack reason ${reasonCode}`);
      const promised = readBallot(reader);
      return { kind: 'nack', key, ballot, reason: reasonCode === REASON_CODES.ballot ? 'ballot' : 'layout', promised, layoutMin: reader.varint() };
    }
    case MESSAGE_CODES.learn: return { kind: 'learn', key, ballot, layout: reader.varint() };
    case MESSAGE_CODES['learn-all']: return { kind: 'learn-all', key, ballot, layout: reader.varint() };
    case MESSAGE_CODES['handed-over']: return { kind: 'handed-over', key, ballot, layout: reader.varint() };
    case MESSAGE_CODES.records: return readRecords(reader, key, ballot);
    case MESSAGE_CODES.adopt:
    case MESSAGE_CODES.record: {
      const promised = readBallot(reader);
      const accepted = readBalloted(reader);
      return { kind: code === MESSAGE_CODES.record ? 'record' : 'adopt', key, ballot, promised, accepted, committed: readBalloted(reader) };
    }
    default: throw new DecodeError(`unknown paxos message ${code}`);
  }
}

/** Records in one `records` page at most (the sender's page is smaller: RECORDS_PAGE_KEYS). */
const RECORDS_PAGE_HARD_MAX = 1_024;

function readRecords(reader: ByteReader, key: string, ballot: Ballot): PaxosMessage<CasValue> {
  const done = reader.u8();
  if (done > 1) throw new DecodeError('bad records flag');
  const count = reader.varint();
  if (count > RECORDS_PAGE_HARD_MAX) throw new DecodeError(`${count} records in one page`);
  const entries = [];
  for (let i = 0; i < count; i++) {
    const entryKey = reader.string(KEY_BYTES_HARD_MAX);
    const promised = readBallot(reader);
    const accepted = readBalloted(reader);
    entries.push({ key: entryKey, promised, accepted, committed: readBalloted(reader) });
  }
  return { kind: 'records', key, ballot, entries, done: done === 1 };
}

/** The bytes a message's value takes, for the peer queue's in-flight bound. */
export function messageValueBytes(message: PaxosMessage<CasValue>): number {
  if (message.kind === 'accept' || message.kind === 'commit') return message.state.value?.data.length ?? 0;
  if (message.kind === 'records') return message.entries.reduce((sum, e) => sum + (e.accepted?.state.value?.data.length ?? 0) + (e.committed?.state.value?.data.length ?? 0), 0);
  if (message.kind === 'promise' || message.kind === 'record' || message.kind === 'adopt') return (message.accepted?.state.value?.data.length ?? 0) + (message.committed?.state.value?.data.length ?? 0);
  return 0;
}
