/**
 * Durable hints for hinted handoff (Dynamo §4.6): a replica held by a fallback node for an
 * owner that was unreachable when the write happened. One hint per (owner, key): a newer write
 * for the same key is merged into it (versioned.merge), so hints never pile up per key.
 * Each hint has a sequence number that changes on every merge; delivery deletes a hint only if
 * its sequence is still the one delivered, so a write merged in meanwhile is not lost.
 *
 * Bounds (STYLE.md §10): hints per owner and bytes per owner; an add past either fails with
 * KV_ERR_HINTS_FULL (the write then counts as failed on that fallback). Hints older than the
 * configured age are dropped by the delivery loop (counted; anti-entropy repairs what they held);
 * a hint's age counts from the last write merged into it, so a newer write it carries is kept
 * for the whole age too (issue 19.9).
 */
import { KvError } from '../errors.js';
import { encodeObject } from '../core/object-codec.js';
import { merge, type VersionedObject, type VersioningLimits } from '../core/versioned.js';

export interface StoredHint {
  readonly id: number;
  readonly seq: number;
  readonly owner: string;
  readonly key: string;
  readonly object: VersionedObject;
  readonly createdMs: number;
  readonly bytes: number;
}

export interface HintLimits {
  readonly hintsPerOwnerMax: number;
  readonly hintBytesPerOwnerMax: number;
}

export interface HintStore {
  /** Stores (or merges into) the hint for (owner, key); resolves once durable. */
  add(owner: string, key: string, object: VersionedObject): Promise<void>;
  /** Owners with hints, with their counts and sizes. */
  owners(): Array<{ owner: string; count: number; bytes: number }>;
  /** Up to `limit` hints for `owner`, oldest first. */
  take(owner: string, limit: number): StoredHint[];
  /** Deletes delivered hints whose sequence is unchanged; returns how many were deleted. */
  remove(delivered: ReadonlyArray<{ id: number; seq: number }>): number;
  /** Deletes hints created before `beforeMs`; returns how many. */
  expire(beforeMs: number): number;
  count(): number;
  /** Whether any hint for `key` is held or queued, whatever its owner (the reaper asks). */
  hasKey(key: string): boolean;
}

/** The size a hint is charged for (its encoded object). */
export function hintBytes(object: VersionedObject): number {
  return encodeObject(object).length;
}

function full(owner: string, what: string, limit: number): KvError {
  return new KvError('KV_ERR_HINTS_FULL', `hints for ${owner} reached the ${what} limit (${limit})`, { owner, limit });
}

/**
 * Whether one more hint (or a merge into the owner's existing hint for the key) fits the
 * owner's bounds: the one rule both hint stores apply. `isNew`: no hint for the key yet (it
 * would add to the count); `count` and `usedBytes`: the owner's hints now, the key's current
 * hint included; `currentBytes`: that hint's size (0 if none); `bytes`: the merged hint's size.
 * Returns the refusal, KV_ERR_HINTS_FULL, or undefined.
 */
export function hintRefusal(owner: string, limits: HintLimits, isNew: boolean, count: number, usedBytes: number, currentBytes: number, bytes: number): KvError | undefined {
  if (isNew && count >= limits.hintsPerOwnerMax) return full(owner, 'count', limits.hintsPerOwnerMax);
  if (usedBytes - currentBytes + bytes > limits.hintBytesPerOwnerMax) return full(owner, 'bytes', limits.hintBytesPerOwnerMax);
  return undefined;
}

/** In-memory twin of the SQLite hint store. */
export class MemoryHintStore implements HintStore {
  private readonly byOwner = new Map<string, Map<string, StoredHint>>();
  private nextId = 1;

  constructor(
    private readonly limits: HintLimits & VersioningLimits,
    private readonly nowMs: () => number,
  ) {}

  async add(owner: string, key: string, object: VersionedObject): Promise<void> {
    const hints = this.byOwner.get(owner) ?? new Map<string, StoredHint>();
    const current = hints.get(key);
    const merged = current === undefined ? object : merge(current.object, object, this.limits);
    const bytes = hintBytes(merged);
    const used = [...hints.values()].reduce((sum, h) => sum + h.bytes, 0);
    const refused = hintRefusal(owner, this.limits, current === undefined, hints.size, used, current?.bytes ?? 0, bytes);
    if (refused !== undefined) throw refused;
    hints.set(key, { id: current?.id ?? this.nextId++, seq: (current?.seq ?? 0) + 1, owner, key, object: merged, createdMs: this.nowMs(), bytes });
    this.byOwner.set(owner, hints);
  }

  owners(): Array<{ owner: string; count: number; bytes: number }> {
    return [...this.byOwner].filter(([, hints]) => hints.size > 0).map(([owner, hints]) => ({
      owner,
      count: hints.size,
      bytes: [...hints.values()].reduce((sum, h) => sum + h.bytes, 0),
    }));
  }

  take(owner: string, limit: number): StoredHint[] {
    return [...(this.byOwner.get(owner)?.values() ?? [])].sort((a, b) => a.id - b.id).slice(0, limit);
  }

  remove(delivered: ReadonlyArray<{ id: number; seq: number }>): number {
    let removed = 0;
    for (const hints of this.byOwner.values()) {
      for (const [key, hint] of hints) {
        if (delivered.some((d) => d.id === hint.id && d.seq === hint.seq)) {
          hints.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }

  expire(beforeMs: number): number {
    let removed = 0;
    for (const hints of this.byOwner.values()) {
      for (const [key, hint] of hints) {
        if (hint.createdMs < beforeMs) {
          hints.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }

  count(): number {
    let total = 0;
    for (const hints of this.byOwner.values()) total += hints.size;
    return total;
  }

  hasKey(key: string): boolean {
    for (const hints of this.byOwner.values()) if (hints.has(key)) return true;
    return false;
  }
}
