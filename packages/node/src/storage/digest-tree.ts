/**
 * The hash tree anti-entropy compares (Dynamo §4.7, riak_kv's hashtrees), kept up to date on
 * every write. Each stored key has a digest, md5(key ‖ encoded object); the ring's position
 * space (2^48) is cut into 2^16 fixed segments, and each segment holds the XOR of the digests
 * of its keys and their count. XOR makes it incremental (a write XORs the old digest out and
 * the new one in) and order-free (two replicas holding the same objects hold the same hash,
 * however they got there).
 *
 * The summary of any position range is the XOR of the whole segments inside it (groups of 256
 * segments are kept too, so a long range costs a few hundred XORs) plus a scan of the few keys
 * in its two partial edge segments, so replicas can compare the arcs they share
 * (which do not line up with segments) and then ever smaller sub-ranges, without keeping a
 * tree per arc: the levels above the segments cost a few XORs when asked for.
 *
 * Objects are canonical (clock and siblings sorted, messages.ts validates a peer's), so equal
 * replicas encode to equal bytes and equal digests.
 */
import * as crypto from 'node:crypto';
import { RING_SPACE, md5 } from '@ringkv/protocol';

export const DIGEST_BYTES = 16;
export const SEGMENTS = 2 ** 16;
const SEGMENT_SPAN = RING_SPACE / SEGMENTS;

/** What a replica holds in a position range: the XOR of its keys' digests, and their number. */
export interface RangeSummary {
  readonly hash: Uint8Array;
  readonly count: number;
}

/** A key, its ring position and its digest. */
export interface KeyDigest {
  readonly key: string;
  readonly position: number;
  readonly digest: Uint8Array;
}

/** The digest of one stored object: md5 over the key's length, the key and the encoded object. */
export function objectDigest(key: string, encoded: Uint8Array): Uint8Array {
  // md5(u32 key length, key, encoded object), hashed in one call over one buffer: a scratch
  // buffer reused across calls (this function never yields), not a new allocation per write.
  const keyBytes = Buffer.byteLength(key, 'utf8');
  const size = 4 + keyBytes + encoded.length;
  const input = size <= SCRATCH_BYTES ? scratch : Buffer.allocUnsafe(size);
  input.writeUInt32BE(keyBytes, 0);
  input.write(key, 4, keyBytes, 'utf8');
  input.set(encoded, 4 + keyBytes);
  const bytes = input.subarray(0, size);
  return size <= JS_MD5_MAX_BYTES ? md5(bytes) : new Uint8Array(nativeMd5(bytes));
}

/**
 * Inputs up to this size are hashed by @ringkv/protocol's JavaScript MD5, larger ones by
 * OpenSSL: node:crypto costs ~2 µs of setup per call but then ~1.5 ns a byte, the JavaScript
 * no setup and ~5 ns a byte, so they cross near 300 bytes (`tsx bench/md5-micro.ts`;
 * BENCHMARKS.md, "Side by side with etcd, 2026-12-04", item 3). An object of a 100-byte value
 * encodes to about 200.
 */
const JS_MD5_MAX_BYTES = 256;

/** crypto.hash: one call, no Hash object (Node 20.12+); createHash before that. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;
const nativeMd5 = (bytes: Uint8Array): Buffer => (oneShot !== undefined ? oneShot('md5', bytes, 'buffer') : crypto.createHash('md5').update(bytes).digest());

/** objectDigest's input buffer for objects up to 64 KiB; larger ones get their own. */
const SCRATCH_BYTES = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);

export function xorInto(target: Uint8Array, offset: number, digest: Uint8Array, from = 0): void {
  for (let i = 0; i < DIGEST_BYTES; i++) target[offset + i]! ^= digest[from + i]!;
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Segments per group: the tree's second level, so a long range costs a few hundred XORs, not 65,536. */
const GROUP_SEGMENTS = 256;
const GROUPS = SEGMENTS / GROUP_SEGMENTS;

/** save()'s layout: tag (format 1), 2^16 segment hashes, 2^16 little-endian u32 counts, SHA-256 of those. */
const SAVED_TAG = new Uint8Array([0x52, 0x4b, 0x44, 0x54, 0x01]); // "RKDT", 1
const SAVED_BODY_BYTES = SAVED_TAG.length + SEGMENTS * DIGEST_BYTES + SEGMENTS * 4;
const SAVED_BYTES = SAVED_BODY_BYTES + 32;

export class DigestTree {
  private readonly hashes = new Uint8Array(SEGMENTS * DIGEST_BYTES);
  private readonly counts = new Uint32Array(SEGMENTS);
  private readonly groupHashes = new Uint8Array(GROUPS * DIGEST_BYTES);
  private readonly groupCounts = new Uint32Array(GROUPS);
  private total = 0;

  /**
   * The tree as bytes, to be kept across a clean stop (sqlite-store.ts): a tag, the segments'
   * hashes and counts, and a SHA-256 of both, so a damaged copy is refused, not trusted.
   */
  save(): Uint8Array {
    const out = new Uint8Array(SAVED_BYTES);
    out.set(SAVED_TAG, 0);
    out.set(this.hashes, SAVED_TAG.length);
    const counts = new DataView(out.buffer, SAVED_TAG.length + this.hashes.length, SEGMENTS * 4);
    for (let segment = 0; segment < SEGMENTS; segment++) counts.setUint32(segment * 4, this.counts[segment]!, true);
    out.set(crypto.createHash('sha256').update(out.subarray(0, SAVED_BODY_BYTES)).digest(), SAVED_BODY_BYTES);
    return out;
  }

  /**
   * Replaces the tree with a saved one. False, leaving the tree as it was, when `bytes` is not
   * a copy save() made (wrong size or tag, a checksum that does not match): then the caller
   * rebuilds the tree from the rows.
   */
  load(bytes: Uint8Array): boolean {
    if (bytes.length !== SAVED_BYTES || !sameHash(bytes.subarray(0, SAVED_TAG.length), SAVED_TAG)) return false;
    const sum = crypto.createHash('sha256').update(bytes.subarray(0, SAVED_BODY_BYTES)).digest();
    if (!sameHash(sum, bytes.subarray(SAVED_BODY_BYTES))) return false;
    this.hashes.set(bytes.subarray(SAVED_TAG.length, SAVED_TAG.length + this.hashes.length));
    const counts = new DataView(bytes.buffer, bytes.byteOffset + SAVED_TAG.length + this.hashes.length, SEGMENTS * 4);
    this.groupHashes.fill(0);
    this.groupCounts.fill(0);
    this.total = 0;
    for (let segment = 0; segment < SEGMENTS; segment++) {
      const count = counts.getUint32(segment * 4, true);
      const group = Math.floor(segment / GROUP_SEGMENTS);
      this.counts[segment] = count;
      this.groupCounts[group]! += count;
      this.total += count;
      xorInto(this.groupHashes, group * DIGEST_BYTES, this.hashes, segment * DIGEST_BYTES);
    }
    return true;
  }

  /** Keys in the tree: what /admin/status reports, kept here so that reading it costs nothing. */
  get keyCount(): number {
    return this.total;
  }

  /** Counts a key in (`sign` 1) or out (-1) of the tree. */
  apply(position: number, digest: Uint8Array, sign: 1 | -1): void {
    this.total += sign;
    const segment = Math.floor(position / SEGMENT_SPAN);
    const group = Math.floor(segment / GROUP_SEGMENTS);
    xorInto(this.hashes, segment * DIGEST_BYTES, digest);
    xorInto(this.groupHashes, group * DIGEST_BYTES, digest);
    this.counts[segment]! += sign;
    this.groupCounts[group]! += sign;
  }

  /**
   * The summary of [start, end): whole segments (and whole groups of them) from the tree; the
   * keys of the partial edge segments from `scan(from, to)`, which lists the stored keys with
   * positions in [from, to).
   */
  summary(start: number, end: number, scan: (from: number, to: number) => Iterable<KeyDigest>): RangeSummary {
    const hash = new Uint8Array(DIGEST_BYTES);
    let count = 0;
    const scanned = (from: number, to: number) => {
      for (const entry of scan(from, to)) {
        xorInto(hash, 0, entry.digest);
        count++;
      }
    };
    const segments = (from: number, to: number) => {
      for (let segment = from; segment < to; segment++) {
        xorInto(hash, 0, this.hashes, segment * DIGEST_BYTES);
        count += this.counts[segment]!;
      }
    };
    if (end <= start) return { hash, count };
    const first = Math.ceil(start / SEGMENT_SPAN); // first whole segment
    const last = Math.floor(end / SEGMENT_SPAN); // segments before this one end by `end`
    if (first >= last) {
      scanned(start, end);
      return { hash, count };
    }
    if (start < first * SEGMENT_SPAN) scanned(start, first * SEGMENT_SPAN);
    const firstGroup = Math.ceil(first / GROUP_SEGMENTS);
    const lastGroup = Math.floor(last / GROUP_SEGMENTS);
    if (firstGroup >= lastGroup) {
      segments(first, last);
    } else {
      segments(first, firstGroup * GROUP_SEGMENTS);
      for (let group = firstGroup; group < lastGroup; group++) {
        xorInto(hash, 0, this.groupHashes, group * DIGEST_BYTES);
        count += this.groupCounts[group]!;
      }
      segments(lastGroup * GROUP_SEGMENTS, last);
    }
    if (last * SEGMENT_SPAN < end) scanned(last * SEGMENT_SPAN, end);
    return { hash, count };
  }
}
