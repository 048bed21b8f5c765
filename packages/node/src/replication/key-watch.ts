/**
 * Parked watches of keys (docs/watch.md; issue 15, point 2): `GET /kv/{key}?changed_since=`
 * waits here until a read of the key at the request's r holds a write its context has not
 * seen (core/watch-change.ts), its timeout passes, or its client goes away.
 *
 * Watches of the same key at the same r share one group, and the group shares its reads: a
 * write wakes one re-read of the key, not one per watcher, and that read's answer is judged
 * against each watcher's own context. A group is woken by:
 * - a commit of the key to this node's store (Store.onCommit): the fast path, taken whenever
 *   this node is a replica of the key (hints live apart and do not wake it);
 * - its poll, a re-read every `pollIntervalMs` (jittered by ±50 %), because this node may not
 *   be a replica of the key, or may have missed a write (a sloppy quorum that went elsewhere, a
 *   partition): no change stays unseen for much longer than the interval.
 * A wake during a read marks the group to read again once that read ends, so a commit is never
 * judged only by a read that began before it.
 *
 * Bounds: at most `watchersMax` parked watches per node (KV_ERR_TOO_MANY_WATCHERS past it);
 * a watch's slot is freed the moment it ends, its client disconnects included.
 * Model: Garage K2V's PollItem (a long poll on a key's causality token); etcd's watch.
 */
import { KvError } from '../errors.js';
import type { VersionVector } from '../core/clock.js';
import type { VersionedObject } from '../core/versioned.js';
import { changedSince, pollDelayMs } from '../core/watch-change.js';
import type { Timers, TimerHandle } from '../timers.js';
import type { KvService } from './kv-service.js';

export interface KeyWatchDeps {
  readonly kv: Pick<KvService, 'get'>;
  /** The local store's commit hook (Store.onCommit); absent, groups rely on their poll alone. */
  readonly onCommit?: (key: string, listener: () => void) => () => void;
  readonly timers: Timers;
  /** Uniform in [0, 1): the poll's jitter. */
  readonly random: () => number;
  /** Most watches parked on this node at once. */
  readonly watchersMax: number;
  /** Mean delay between two reads of a parked key that nothing woke. */
  readonly pollIntervalMs: number;
  /** Deadline of each re-read at r. */
  readonly readTimeoutMs: number;
}

export interface WatchRequest {
  readonly key: string;
  readonly r: number;
  /** What the client has seen (the decoded changed_since context). */
  readonly context: VersionVector;
  readonly timeoutMs: number;
  /** Aborted when the client goes away: the watch ends and frees its slot. */
  readonly signal?: AbortSignal;
}

/** A watch's end: the key's state that is new to the context, or nothing new by the timeout. */
export type WatchOutcome = { readonly changed: true; readonly object: VersionedObject } | { readonly changed: false };

interface Watcher {
  readonly context: VersionVector;
  readonly resolve: (outcome: WatchOutcome) => void;
  readonly reject: (error: unknown) => void;
  /** Whether a read of the key answered since this watch began (a failure before that fails it). */
  answered: boolean;
  timer: TimerHandle | undefined;
  detach: (() => void) | undefined;
}

interface Group {
  readonly id: string;
  readonly key: string;
  readonly r: number;
  readonly watchers: Set<Watcher>;
  reading: boolean;
  /** Woken during a read: read again when it ends. */
  again: boolean;
  /** A wake is queued as a microtask (commits call in synchronously). */
  wakeQueued: boolean;
  poll: TimerHandle | undefined;
  unsubscribe: (() => void) | undefined;
  /** The last read's failure, cleared by the next answer: what a timeout reports instead of 304. */
  lastError: unknown;
}

export class KeyWatchService {
  private readonly groups = new Map<string, Group>();
  private parkedCount = 0;
  private closed = false;

  constructor(private readonly deps: KeyWatchDeps) {}

  /** Watches parked now (for /metrics and tests). */
  get parked(): number {
    return this.parkedCount;
  }

  /** Parks a watch; see the module comment. Throws KV_ERR_TOO_MANY_WATCHERS past the bound. */
  watch(request: WatchRequest): Promise<WatchOutcome> {
    if (this.closed) return Promise.reject(new KvError('KV_ERR_SHUTTING_DOWN', 'the node is stopping; watch on another node'));
    if (this.parkedCount >= this.deps.watchersMax) {
      return Promise.reject(new KvError('KV_ERR_TOO_MANY_WATCHERS', `this node holds ${this.deps.watchersMax} parked watches, its limit; retry later or on another node`, { limit: this.deps.watchersMax }));
    }
    if (request.signal?.aborted === true) return Promise.resolve({ changed: false });
    return new Promise<WatchOutcome>((resolve, reject) => {
      const group = this.groupOf(request.key, request.r);
      const watcher: Watcher = { context: request.context, resolve, reject, answered: false, timer: undefined, detach: undefined };
      group.watchers.add(watcher);
      this.parkedCount++;
      watcher.timer = this.deps.timers.setTimeout(() => this.expire(group, watcher), request.timeoutMs);
      if (request.signal !== undefined) {
        const signal = request.signal;
        const onAbort = () => this.finish(group, watcher, { changed: false });
        signal.addEventListener('abort', onAbort, { once: true });
        watcher.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.read(group);
    });
  }

  /** Ends every parked watch with KV_ERR_SHUTTING_DOWN (their clients go to another node) and refuses new ones. Idempotent. */
  close(): void {
    this.closed = true;
    const error = new KvError('KV_ERR_SHUTTING_DOWN', 'the node is stopping; watch on another node');
    for (const group of [...this.groups.values()]) for (const watcher of [...group.watchers]) this.finish(group, watcher, error);
  }

  private groupOf(key: string, r: number): Group {
    const id = `${r}\u0000${key}`;
    let group = this.groups.get(id);
    if (group !== undefined) return group;
    group = { id, key, r, watchers: new Set(), reading: false, again: false, wakeQueued: false, poll: undefined, unsubscribe: undefined, lastError: undefined };
    const woken = group;
    group.unsubscribe = this.deps.onCommit?.(key, () => this.wake(woken));
    this.groups.set(id, group);
    return group;
  }

  /** Called from the store's commit path: only queue the read (key-watchers.ts). */
  private wake(group: Group): void {
    if (group.wakeQueued) return;
    group.wakeQueued = true;
    queueMicrotask(() => {
      group.wakeQueued = false;
      if (this.groups.get(group.id) === group) this.read(group);
    });
  }

  private read(group: Group): void {
    if (group.reading) {
      group.again = true;
      return;
    }
    group.reading = true;
    group.again = false;
    this.deps.timers.clearTimeout(group.poll);
    group.poll = undefined;
    this.deps.kv.get(group.key, { r: group.r, timeoutMs: this.deps.readTimeoutMs }).then(
      (object) => this.answered(group, object),
      (error: unknown) => this.failed(group, error),
    ).finally(() => {
      group.reading = false;
      if (group.watchers.size === 0) return this.drop(group);
      if (group.again) return this.read(group);
      group.poll = this.deps.timers.setTimeout(() => {
        group.poll = undefined;
        this.read(group);
      }, pollDelayMs(this.deps.pollIntervalMs, this.deps.random()));
    });
  }

  private answered(group: Group, object: VersionedObject | undefined): void {
    group.lastError = undefined;
    for (const watcher of [...group.watchers]) {
      watcher.answered = true;
      if (changedSince(object, watcher.context)) this.finish(group, watcher, { changed: true, object: object! });
    }
  }

  /** A failed read fails the watches it was the first read of (as a GET would fail); the others keep waiting. */
  private failed(group: Group, error: unknown): void {
    group.lastError = error;
    for (const watcher of [...group.watchers]) if (!watcher.answered) this.finish(group, watcher, error);
  }

  /** The timeout: 304, unless the key could not be read since the last answer (then that error). */
  private expire(group: Group, watcher: Watcher): void {
    watcher.timer = undefined;
    this.finish(group, watcher, group.lastError === undefined ? { changed: false } : group.lastError);
  }

  private finish(group: Group, watcher: Watcher, outcome: WatchOutcome | unknown): void {
    if (!group.watchers.delete(watcher)) return;
    this.parkedCount--;
    this.deps.timers.clearTimeout(watcher.timer);
    watcher.detach?.();
    if (isOutcome(outcome)) watcher.resolve(outcome);
    else watcher.reject(outcome);
    if (group.watchers.size === 0 && !group.reading) this.drop(group);
  }

  private drop(group: Group): void {
    if (this.groups.get(group.id) !== group) return;
    this.groups.delete(group.id);
    group.unsubscribe?.();
    this.deps.timers.clearTimeout(group.poll);
    group.poll = undefined;
  }
}

function isOutcome(value: unknown): value is WatchOutcome {
  return typeof value === 'object' && value !== null && 'changed' in value && !(value instanceof Error);
}
