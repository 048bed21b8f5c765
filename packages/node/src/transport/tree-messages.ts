/**
 * Anti-entropy messages (`POST /internal/tree`) and their binary codecs. The node that runs an
 * exchange asks a peer for what it holds in ranges of ring positions, never for data: either
 * the summary (hash and count, storage/digest-tree.ts) of each of several range sets, or the
 * digests of the keys in some ranges. Objects then move as ordinary replica gets and puts,
 * merged by the versioning core, so nothing here can overwrite data.
 *
 * Every field is bounded and checked (positions within the ring, ranges non-empty, counts
 * under their maxima, digests of the right size); a malformed frame is KV_ERR_BAD_REQUEST on
 * either side, and the exchange that got it is abandoned and retried at the next round.
 */
import { RING_SPACE } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { ByteReader, ByteWriter, DecodeError } from '../core/bytes.js';
import { DIGEST_BYTES, type RangeSummary } from '../storage/digest-tree.js';

const FRAME_VERSION = 1;
const KEY_BYTES_HARD_MAX = 64 * 1024;
/** Most range sets one summaries request may ask about. */
export const TREE_SETS_MAX = 1024;
/** Most ranges one request may carry, over all its sets. */
export const TREE_RANGES_MAX = 8192;
/** Most key digests one answer may carry. */
export const TREE_DIGESTS_MAX = 4096;
/** Most keys one holdings question may name. */
export const TREE_KEYS_MAX = 1024;
/** Most keys one listing question may ask for (a page: GET /kv?limit=, docs/listing.md). */
export const TREE_LIST_KEYS_MAX = 1000;

/** Ring positions [start, end), 0 ≤ start < end ≤ 2^48. */
export interface PositionRange {
  readonly start: number;
  readonly end: number;
}

export type TreeRequest =
  /** The summary of each set: hash and count of the keys in the union of its ranges. */
  | { readonly kind: 'summaries'; readonly sets: ReadonlyArray<readonly PositionRange[]> }
  /** The keys in the ranges with their digests, at most `limit` (then `truncated`). */
  | { readonly kind: 'digests'; readonly ranges: readonly PositionRange[]; readonly limit: number }
  /** For each key: the digest of what this node stores (if anything) and whether it holds a hint for it (the reaper asks). */
  | { readonly kind: 'holdings'; readonly keys: readonly string[] }
  /**
   * Listing keys (docs/listing.md): this node's live keys starting with `prefix`, after `after`
   * in byte order, whose position lies in `ranges`, at most `limit` (Store.listKeys).
   */
  | { readonly kind: 'keys'; readonly ranges: readonly PositionRange[]; readonly prefix: string; readonly after: string; readonly limit: number };

export type TreeResponse =
  | { readonly kind: 'summaries'; readonly summaries: readonly RangeSummary[] }
  | { readonly kind: 'digests'; readonly entries: ReadonlyArray<{ readonly key: string; readonly digest: Uint8Array }>; readonly truncated: boolean }
  | { readonly kind: 'holdings'; readonly holdings: ReadonlyArray<{ readonly digest?: Uint8Array; readonly hinted: boolean }> }
  /** `through`: null when nothing matching lies beyond `keys`, else the last key examined (storage/key-listing.ts KeyPage). */
  | { readonly kind: 'keys'; readonly keys: readonly string[]; readonly through: string | null };

function decoding<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof DecodeError) throw new KvError('KV_ERR_BAD_REQUEST', `malformed ${what}: ${error.message}`);
    throw error;
  }
}

function count(reader: ByteReader, max: number, what: string): number {
  const value = reader.varint();
  if (value > max) throw new DecodeError(`${value} ${what} exceed ${max}`);
  return value;
}

function writeRanges(writer: ByteWriter, ranges: readonly PositionRange[]): void {
  writer.varint(ranges.length);
  for (const range of ranges) writer.varint(range.start).varint(range.end);
}

function readRanges(reader: ByteReader, budget: { left: number }): PositionRange[] {
  const length = count(reader, budget.left, 'ranges');
  budget.left -= length;
  const ranges: PositionRange[] = [];
  for (let i = 0; i < length; i++) {
    const start = reader.varint();
    const end = reader.varint();
    if (!(start < end && end <= RING_SPACE)) throw new DecodeError(`range [${start}, ${end}) is empty or outside the ring`);
    ranges.push({ start, end });
  }
  return ranges;
}

function header(reader: ByteReader): number {
  const version = reader.u8();
  if (version !== FRAME_VERSION) throw new DecodeError(`unknown tree frame version ${version}`);
  const kind = reader.u8();
  if (kind < 1 || kind > 4) throw new DecodeError(`unknown tree message kind ${kind}`);
  return kind;
}

function finished<T>(reader: ByteReader, value: T): T {
  if (!reader.done) throw new DecodeError('trailing bytes');
  return value;
}

export function encodeTreeRequest(request: TreeRequest): Uint8Array {
  const writer = new ByteWriter(256).u8(FRAME_VERSION);
  if (request.kind === 'summaries') {
    writer.u8(1).varint(request.sets.length);
    for (const set of request.sets) writeRanges(writer, set);
  } else if (request.kind === 'digests') {
    writer.u8(2).varint(request.limit);
    writeRanges(writer, request.ranges);
  } else if (request.kind === 'holdings') {
    writer.u8(3).varint(request.keys.length);
    for (const key of request.keys) writer.string(key);
  } else {
    writer.u8(4).varint(request.limit).string(request.prefix).string(request.after);
    writeRanges(writer, request.ranges);
  }
  return writer.finish();
}

export function decodeTreeRequest(bytes: Uint8Array): TreeRequest {
  return decoding('tree request', () => {
    const reader = new ByteReader(bytes);
    const budget = { left: TREE_RANGES_MAX };
    const kind = header(reader);
    if (kind === 1) {
      const sets = Array.from({ length: count(reader, TREE_SETS_MAX, 'range sets') }, () => readRanges(reader, budget));
      return finished(reader, { kind: 'summaries' as const, sets });
    }
    if (kind === 3) {
      const keys = Array.from({ length: count(reader, TREE_KEYS_MAX, 'keys') }, () => reader.string(KEY_BYTES_HARD_MAX));
      return finished(reader, { kind: 'holdings' as const, keys });
    }
    if (kind === 4) {
      const limit = count(reader, TREE_LIST_KEYS_MAX, 'keys asked');
      const prefix = reader.string(KEY_BYTES_HARD_MAX);
      const after = reader.string(KEY_BYTES_HARD_MAX);
      const ranges = readRanges(reader, budget);
      // Store.listKeys searches them by bisection: they must be in order and apart.
      if (ranges.some((range, i) => i > 0 && range.start < ranges[i - 1]!.end)) throw new DecodeError('listing ranges out of order or overlapping');
      return finished(reader, { kind: 'keys' as const, limit, prefix, after, ranges });
    }
    const limit = count(reader, TREE_DIGESTS_MAX, 'digests asked');
    return finished(reader, { kind: 'digests' as const, limit, ranges: readRanges(reader, budget) });
  });
}

export function encodeTreeResponse(response: TreeResponse): Uint8Array {
  const writer = new ByteWriter(256).u8(FRAME_VERSION);
  if (response.kind === 'summaries') {
    writer.u8(1).varint(response.summaries.length);
    for (const summary of response.summaries) writer.bytes(summary.hash).varint(summary.count);
  } else if (response.kind === 'digests') {
    writer.u8(2).u8(response.truncated ? 1 : 0).varint(response.entries.length);
    for (const entry of response.entries) writer.string(entry.key).bytes(entry.digest);
  } else if (response.kind === 'holdings') {
    writer.u8(3).varint(response.holdings.length);
    for (const holding of response.holdings) {
      writer.u8((holding.digest === undefined ? 0 : 1) | (holding.hinted ? 2 : 0));
      if (holding.digest !== undefined) writer.bytes(holding.digest);
    }
  } else {
    writer.u8(4).u8(response.through === null ? 0 : 1);
    if (response.through !== null) writer.string(response.through);
    writer.varint(response.keys.length);
    for (const key of response.keys) writer.string(key);
  }
  return writer.finish();
}

function digest(reader: ByteReader): Uint8Array {
  const bytes = reader.bytes(DIGEST_BYTES);
  if (bytes.length !== DIGEST_BYTES) throw new DecodeError(`digest of ${bytes.length} bytes, not ${DIGEST_BYTES}`);
  return bytes.slice();
}

export function decodeTreeResponse(bytes: Uint8Array): TreeResponse {
  return decoding('tree response', () => {
    const reader = new ByteReader(bytes);
    const kind = header(reader);
    if (kind === 3) {
      const holdings = Array.from({ length: count(reader, TREE_KEYS_MAX, 'holdings') }, () => {
        const flags = reader.u8();
        if (flags > 3) throw new DecodeError(`bad holding flags ${flags}`);
        return { ...((flags & 1) !== 0 ? { digest: digest(reader) } : {}), hinted: (flags & 2) !== 0 };
      });
      return finished(reader, { kind: 'holdings' as const, holdings });
    }
    if (kind === 4) {
      const more = reader.u8();
      if (more > 1) throw new DecodeError('bad through flag');
      const through = more === 1 ? reader.string(KEY_BYTES_HARD_MAX) : null;
      const keys = Array.from({ length: count(reader, TREE_LIST_KEYS_MAX, 'keys') }, () => reader.string(KEY_BYTES_HARD_MAX));
      return finished(reader, { kind: 'keys' as const, through, keys });
    }
    if (kind === 1) {
      const summaries = Array.from({ length: count(reader, TREE_SETS_MAX, 'summaries') }, () => ({ hash: digest(reader), count: reader.varint() }));
      return finished(reader, { kind: 'summaries' as const, summaries });
    }
    const truncated = reader.u8();
    if (truncated > 1) throw new DecodeError('bad truncated flag');
    const entries = Array.from({ length: count(reader, TREE_DIGESTS_MAX, 'digests') }, () => ({ key: reader.string(KEY_BYTES_HARD_MAX), digest: digest(reader) }));
    return finished(reader, { kind: 'digests' as const, truncated: truncated === 1, entries });
  });
}
