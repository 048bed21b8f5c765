/**
 * The manual clock and event queue of the cluster simulation (tigerbeetle `testing/time.zig`
 * and the VOPR's single event loop): every timer, message delivery and deferred turn of every
 * node is an event on one heap, ordered by time and then by insertion, so the same seed always
 * runs the same events in the same order.
 *
 * Each event may belong to an owner, a node incarnation. Before an event runs, the simulation
 * decides its fate (`gate`): run it; defer it while its node is paused (SIGSTOP: nothing runs,
 * arrivals wait in the socket buffer); or drop it because its incarnation crashed (a killed
 * process's timers and pending work die with it). Owner-less events (clients, the nemesis, the
 * failure detector) always run.
 */
import { EventHeap } from './event-heap.js';
import type { Timers } from '../timers.js';
import type { SetTimer } from '../transport/memory-transport.js';

/** A node incarnation; `incarnation` DURABLE marks work that survives a crash (the disk). */
export interface Owner {
  readonly node: string;
  readonly incarnation: number;
}

/** The incarnation number of work owned by a node's disk rather than its process. */
export const DURABLE = -1;

export type Fate = 'run' | 'defer' | 'drop';

interface SimEvent {
  readonly atMs: number;
  /** What the trace shows; undefined for routine work (timers, per-turn flushes). */
  readonly label: string | undefined;
  readonly run: () => void;
  readonly owner: Owner | undefined;
  cancelled: boolean;
}

/** Waits one real macrotask turn: every promise continuation the last event started has run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SimClock {
  private readonly heap = new EventHeap<SimEvent>();
  private readonly deferred = new Map<string, SimEvent[]>();
  /** Events run so far. */
  eventsRun = 0;

  constructor(
    public nowMs: number,
    private readonly gate: (owner: Owner) => Fate,
    private readonly trace: (atMs: number, line: string) => void,
  ) {}

  /** The time the nodes see: whole milliseconds, as Date.now gives (stored timestamps are integers). */
  wallMs(): number {
    return Math.floor(this.nowMs);
  }

  /** Schedules `run` after `delayMs` of simulated time; returns a handle for `cancel`. */
  at(delayMs: number, label: string | undefined, run: () => void, owner?: Owner): SimEvent {
    const event: SimEvent = { atMs: this.nowMs + Math.max(0, delayMs), label, run, owner, cancelled: false };
    this.heap.push(event);
    return event;
  }

  cancel(handle: unknown): void {
    if (handle !== undefined) (handle as SimEvent).cancelled = true;
  }

  /** Timers for parts owned by `owner` (the coordinator, the hint loop). */
  timers(owner: Owner): Timers {
    return { setTimeout: (fn, ms) => this.at(ms, undefined, fn, owner), clearTimeout: (handle) => this.cancel(handle), monotonicMs: () => Math.floor(this.nowMs) };
  }

  /** The same timers in MemoryTransport's form (start, get a cancel function). */
  setTimer(owner: Owner): SetTimer {
    return (fn, ms) => {
      const event = this.at(ms, undefined, fn, owner);
      return () => this.cancel(event);
    };
  }

  /** A "next turn" scheduler (group commit, peer batching) on simulated time. */
  scheduler(owner: Owner): (fn: () => void) => void {
    return (fn) => void this.at(0, undefined, fn, owner);
  }

  /** Puts a resumed node's deferred events back, in their original order, at the current time. */
  resume(node: string): void {
    const events = this.deferred.get(node) ?? [];
    this.deferred.delete(node);
    for (const event of events) if (!event.cancelled) this.at(0, event.label, event.run, event.owner);
  }

  /** Runs the next event and lets every continuation it started finish; false when none is left. */
  async step(): Promise<boolean> {
    const event = this.heap.pop();
    if (event === undefined) return false;
    if (event.cancelled) return true;
    this.nowMs = Math.max(this.nowMs, event.atMs);
    const fate = event.owner === undefined ? 'run' : this.gate(event.owner);
    if (fate === 'defer') {
      const list = this.deferred.get(event.owner!.node) ?? [];
      list.push(event);
      this.deferred.set(event.owner!.node, list);
      return true;
    }
    if (fate === 'drop') return true;
    if (event.label !== undefined) this.trace(this.nowMs, event.label);
    this.eventsRun++;
    event.run();
    await settle();
    return true;
  }

  /** Runs events until `done()` holds or `maxMs` of simulated time pass; true if it held. */
  async runUntil(done: () => boolean, maxMs: number): Promise<boolean> {
    const untilMs = this.nowMs + maxMs;
    while (!done()) {
      const next = this.heap.peek();
      if (next === undefined || next.atMs > untilMs) {
        this.nowMs = Math.max(this.nowMs, untilMs);
        return done();
      }
      await this.step();
    }
    return true;
  }

  /** Runs every event due in the next `durationMs`. */
  async run(durationMs: number): Promise<void> {
    await this.runUntil(() => false, durationMs);
  }
}
