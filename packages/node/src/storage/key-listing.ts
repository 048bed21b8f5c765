/**
 * Listing keys from one replica's index (docs/listing.md): the shapes and rules both stores
 * share for Store.listKeys. A store answers with its next live keys after a cursor, under a
 * prefix, in byte order (SQLite's BINARY collation of the UTF-8 key, which is also code point
 * order), restricted to the ring ranges it was asked for, and examines at most a bounded
 * number of rows per call, so a page never costs a scan of everything (Riak's list-keys did).
 */
import { deadAfterMs, isDeleted, visibleAt, type VersionedObject } from '../core/versioned.js';

/** Ring positions [start, end), sorted and disjoint when more than one. */
export interface ListRange {
  readonly start: number;
  readonly end: number;
}

/** What one replica answers for a page. */
export interface KeyPage {
  /** Live keys > after that start with the prefix and lie in the ranges asked, ascending, at most `limit`. */
  readonly keys: readonly string[];
  /**
   * null: nothing matching lies beyond `keys`. Otherwise the last key the replica examined:
   * its answer is complete up to and including it, and a caller resumes after it.
   */
  readonly through: string | null;
}

/** Rows one call examines at most, per key asked for: keys outside the ranges asked and dead keys cost rows too. */
export const LIST_SCAN_ROWS_PER_KEY = 8;
/** Rows one call examines at most, whatever the limit. */
export const LIST_SCAN_ROWS_MIN = 1_024;

/** The most rows a call for `limit` keys examines. */
export function scanBudget(limit: number): number {
  return Math.max(LIST_SCAN_ROWS_MIN, limit * LIST_SCAN_ROWS_PER_KEY);
}

/** Byte order of the UTF-8 encodings (SQLite's BINARY collation), which is code point order. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The smallest string above every string that starts with `prefix` (in code point order), or
 * undefined when there is none (an empty prefix, or one of U+10FFFF only). Surrogates are
 * skipped: U+D7FF is followed by U+E000.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix].map((ch) => ch.codePointAt(0)!);
  while (points.length > 0 && points.at(-1) === 0x10ffff) points.pop();
  if (points.length === 0) return undefined;
  const last = points.pop()! + 1;
  points.push(last === 0xd800 ? 0xe000 : last);
  return String.fromCodePoint(...points);
}

/** Whether `position` lies in one of `ranges` (sorted, disjoint), by binary search; no ranges means everywhere. */
export function inRanges(position: number, ranges: readonly ListRange[] | undefined): boolean {
  if (ranges === undefined) return true;
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const range = ranges[mid]!;
    if (position < range.start) high = mid - 1;
    else if (position >= range.end) low = mid + 1;
    else return true;
  }
  return false;
}

/** Whether an object shows a live value at `nowMs`: not every sibling a tombstone, not every value expired. */
export function isLiveAt(object: VersionedObject, nowMs: number): boolean {
  if (isDeleted(object)) return false;
  if (deadAfterMs(object) === undefined) return true;
  return !isDeleted(visibleAt(object, nowMs));
}

/** One row a store examined, in key order. `live` false: a tombstone or an expired value. */
export interface ListRow {
  readonly key: string;
  readonly position: number;
  readonly live: () => boolean;
}

/**
 * Builds a page from rows in ascending key order (already > after, >= prefix, within the
 * prefix's end, and at most `budget` of them): keeps live keys in the ranges, stops at `limit`.
 * `exhausted` says the rows were all there are (fewer than the budget came).
 */
export function pageOf(rows: Iterable<ListRow>, limit: number, ranges: readonly ListRange[] | undefined, budget: number): KeyPage {
  const keys: string[] = [];
  let examined = 0;
  for (const row of rows) {
    examined++;
    if (inRanges(row.position, ranges) && row.live()) {
      keys.push(row.key);
      if (keys.length === limit) return { keys, through: row.key };
    }
    if (examined === budget) return { keys, through: row.key };
  }
  return { keys, through: null };
}
