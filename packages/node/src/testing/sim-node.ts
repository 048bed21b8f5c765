/**
 * One node of the cluster simulation across its lives. Its disk (a MemoryStore with its hints)
 * outlives crashes; each life (incarnation) is the real composition (`assemble`: coordinator,
 * replica service, hinted handoff, HTTP app) built over that disk, on the simulation's clock,
 * timers and network.
 *
 * A crash ends the incarnation at once, as kill -9 does: its address stops answering, its
 * transport is closed, its timers and pending deliveries are dropped (SimClock's gate), and
 * its view of the disk is fenced, so no continuation of the dead process can write or see a
 * write acknowledged. A write already queued for the disk still commits (the crash came after
 * the fsync, before the acknowledgement). A restart builds a new incarnation over the same
 * disk; its member list starts with everyone alive, as a freshly started static node's does.
 *
 * Membership and clock faults (issue 19): a node may leave (it hands off, then stops for good,
 * as node.ts's leave does), be removed while down (it never restarts, unless as a zombie with
 * its old disk and its old view), lose its disk (`wipe`: a new MemoryStore, hence a new epoch,
 * no hints), and have its wall clock stepped (`clockOffsetMs`, added to what every part of the
 * node reads as the time; timers, like a monotonic clock, are not affected).
 */
import { leaveStep } from '../replication/leave.js';
import { pino } from 'pino';
import { KvError } from '../errors.js';
import type { NodeConfig } from '../config.js';
import type { VersionedObject, VersioningLimits } from '../core/versioned.js';
import { assemble } from '../node.js';
import { MemoryStore, DEFAULT_HINT_LIMITS } from '../storage/memory-store.js';
import { newEpoch, type MergeOptions, type Store } from '../storage/store.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import { DURABLE, type Fate, type Owner, type SimClock } from './sim-clock.js';
import { applyView, type RingEntry } from './sim-membership.js';
import { SimNetwork } from './sim-network.js';

const silent = pino({ level: process.env.SIM_LOG ?? 'silent' });
const never = <T>() => new Promise<T>(() => undefined);

/** A life's view of the node's disk; after `fence()` it neither writes nor acknowledges. */
class FencedStore implements Store {
  private fenced = false;

  constructor(private readonly disk: Store) {}

  fence(): void {
    this.fenced = true;
  }

  get epoch(): string {
    return this.disk.epoch;
  }

  writeRefusal(): ReturnType<Store['writeRefusal']> {
    return this.disk.writeRefusal();
  }

  get hints(): Store['hints'] {
    return this.disk.hints;
  }

  get acceptorRecords(): Store['acceptorRecords'] {
    return this.disk.acceptorRecords;
  }

  get(key: string): VersionedObject | undefined {
    return this.disk.get(key);
  }

  committed(key: string): Promise<boolean> {
    return this.disk.committed(key);
  }

  actorOf(key: string): string | undefined {
    return this.disk.actorOf(key);
  }

  put(key: string, object: VersionedObject, actor?: string): Promise<void> {
    if (this.fenced) return never();
    return this.disk.put(key, object, actor).then(() => (this.fenced ? never<void>() : undefined));
  }

  merge(key: string, incoming: VersionedObject, limits: VersioningLimits, options?: MergeOptions): Promise<void> {
    if (this.fenced) return never();
    return this.disk.merge(key, incoming, limits, options).then(() => (this.fenced ? never<void>() : undefined));
  }

  keyCount(): number {
    return this.disk.keyCount();
  }

  syncNow(): Promise<void> {
    return this.disk.syncNow();
  }

  summarize(start: number, end: number): ReturnType<Store['summarize']> {
    return this.disk.summarize(start, end);
  }

  digests(start: number, end: number, limit: number): ReturnType<Store['digests']> {
    return this.disk.digests(start, end, limit);
  }

  digestOf(key: string): Uint8Array | undefined {
    return this.disk.digestOf(key);
  }

  deadBefore(cutoffMs: number, limit: number): ReturnType<Store['deadBefore']> {
    return this.disk.deadBefore(cutoffMs, limit);
  }

  removeIfUnchanged(entries: Parameters<Store['removeIfUnchanged']>[0]): number {
    return this.fenced ? 0 : this.disk.removeIfUnchanged(entries);
  }

  stats(): ReturnType<Store['stats']> {
    return this.disk.stats();
  }

  async close(): Promise<void> {
    // The disk outlives every life.
  }

  listKeys(...args: Parameters<Store['listKeys']>): ReturnType<Store['listKeys']> {
    return this.disk.listKeys(...args);
  }
}

type Parts = ReturnType<typeof assemble>;

/** What the simulation's actors (nemesis, failure detector) act on and report to. */
export interface SimWorld {
  readonly clock: SimClock;
  readonly random: () => number;
  readonly nodes: readonly SimNode[];
  readonly network: SimNetwork;
  /** Adds a line to the run's trace. */
  readonly trace: (line: string) => void;
}

/** How often a leaving node checks whether its handoff is done (node.ts: every 200 ms; scaled). */
const LEAVE_POLL_MS = 20;

export class SimNode {
  /** `stopped`: it left (handoff done) or was removed; it does not come back (but as a zombie). */
  state: 'running' | 'paused' | 'crashed' | 'stopped' = 'crashed';
  incarnation = 0;
  /** The node's disk: survives crashes and restarts (not `wipe`). */
  disk: MemoryStore;
  /** Added to the simulated time this node reads as its wall clock (a stepped clock). */
  clockOffsetMs = 0;
  /** Leaving: it knows it left the ring and stops once it has nothing left to hand off. */
  leaving = false;
  /**
   * Draining before a stop (node.drain): it told its peers it is dead and keeps serving until
   * it stops; the detector does not mark it alive again (it does not refute the notice).
   */
  draining = false;
  /** Removed by an operator while down: never restarted by the nemesis. */
  removed = false;
  /** A failing disk (the nemesis's disk fault): every commit throws while it is set. */
  diskFailing = false;
  /** Lives started over the current disk: from the second on, the disk is reopened (MemoryStore.reopen). */
  private diskLives = 0;
  /** A removed node that came back with its old disk and view; nobody tells it the ring. */
  zombie = false;
  private life: { parts: Parts; store: FencedStore } | undefined;

  constructor(
    readonly config: NodeConfig,
    private readonly clock: SimClock,
    private readonly network: SimNetwork,
    private readonly random: () => number,
  ) {
    this.disk = this.newDisk();
  }

  private newDisk(): MemoryStore {
    const durable = { node: this.config.nodeId, incarnation: DURABLE };
    const freshEpoch = () => newEpoch(this.random);
    const commitFault = () => (this.diskFailing ? new KvError('KV_ERR_STORAGE', `simulated I/O error on ${this.id}'s disk`) : undefined);
    return new MemoryStore({ schedule: this.clock.scheduler(durable), epoch: freshEpoch(), freshEpoch, commitFault, limits: DEFAULT_HINT_LIMITS, nowMs: () => this.nowMs() });
  }

  /** This node's wall clock: simulated time plus its step. */
  nowMs(): number {
    return this.clock.wallMs() + this.clockOffsetMs;
  }

  /** The data dir is lost (only while crashed): a new, empty store with a new epoch and no hints. */
  wipe(): void {
    if (this.state !== 'crashed') throw new Error(`wipe of ${this.id} while ${this.state}`);
    this.disk = this.newDisk();
    this.diskLives = 0;
  }

  /** True while the process is up (running or paused), whatever its role. */
  get up(): boolean {
    return this.state === 'running' || this.state === 'paused';
  }

  get id(): string {
    return this.config.nodeId;
  }

  get owner(): Owner {
    return { node: this.id, incarnation: this.incarnation };
  }

  /** The running incarnation's parts (undefined while crashed). */
  get parts(): Parts | undefined {
    return this.life?.parts;
  }

  /** What the clock does with an event of `owner` now (see SimClock). */
  fate(owner: Owner): Fate {
    if (owner.incarnation !== DURABLE && (owner.incarnation !== this.incarnation || !this.up)) return 'drop';
    return this.state === 'paused' ? 'defer' : 'run';
  }

  /**
   * Starts a new incarnation over the disk, with `view` as its member list (see SimRing).
   * `alone`: as a real node starts (membership.md "Joined"), it knows only itself and is not
   * joined until the ring is told to it (SimRing's sweep, as a seed's answer would).
   */
  start(view?: readonly RingEntry[], alone = false): void {
    this.incarnation++;
    // A restart over the same disk: a new epoch unless the last life stopped cleanly (never here: lives end in crashes).
    if (this.diskLives++ > 0) this.disk.reopen();
    this.state = 'running';
    this.draining = false;
    const owner = this.owner;
    const transport = new MemoryTransport(this.network.memory, this.id, undefined, this.clock.scheduler(owner), this.clock.setTimer(owner));
    const store = new FencedStore(this.disk);
    const timers = this.clock.timers(owner);
    const parts = assemble(this.config, SimNetwork.address(this.id), { transport, timers, random: this.random }, silent, () => this.nowMs(), store);
    this.network.attach(owner, parts.replica);
    // The loops node.ts starts: hints, anti-entropy, ownership handoff, reaping.
    parts.handoff.start(this.config.hintDeliveryIntervalMs);
    if (this.config.antiEntropyIntervalMs > 0) parts.antiEntropy.start(this.config.antiEntropyIntervalMs);
    parts.transfer.start(this.config.transferIntervalMs);
    parts.reaper.start(this.config.reapIntervalMs);
    this.life = { parts, store };
    if (alone) {
      applyView(parts.staticMembership!, [{ id: this.id, zone: this.config.zone, left: false }]);
      parts.staticMembership!.setJoined(false);
    }
    if (view !== undefined) this.learn(view);
    if (this.leaving) this.pollLeave(timers);
    // Work deferred while an earlier life was paused: the dead life's is dropped, the disk's runs.
    this.clock.resume(this.id);
  }

  /** The member list this node last learned (a zombie comes back with it). */
  lastView: readonly RingEntry[] | undefined;

  /** Sets this node's member list (SimRing.tell); remembered for a zombie's return. */
  learn(view: readonly RingEntry[]): void {
    this.lastView = view.map((e) => ({ ...e }));
    if (this.life === undefined) return;
    applyView(this.life.parts.staticMembership!, view);
    this.life.parts.staticMembership!.setJoined(true);
  }

  /**
   * This node has left the ring (its view says so): as node.ts's leave, it takes a leave step
   * (replication/leave.ts: hand over undeliverable hints) every LEAVE_POLL_MS, and stops once
   * no key is left to hand off and no hint is left (issue 19 point 6).
   */
  leave(): void {
    if (this.leaving) return;
    this.leaving = true;
    if (this.life !== undefined) this.pollLeave(this.clock.timers(this.owner));
  }

  private pollLeave(timers: ReturnType<SimClock['timers']>): void {
    const parts = this.life!.parts;
    const check = () => {
      if (this.life?.parts !== parts) return;
      void leaveStep({ store: this.life.store, handoff: parts.handoff, transfer: parts.transfer, cas: parts.replica.cas }).then(
        (done) => {
          if (this.life?.parts !== parts) return;
          if (done) this.stop();
          else timers.setTimeout(check, LEAVE_POLL_MS);
        },
        () => timers.setTimeout(check, LEAVE_POLL_MS),
      );
    };
    timers.setTimeout(check, LEAVE_POLL_MS);
  }

  /** The process ends for good (a finished leave; a zombie put down): like a crash, but final. */
  stop(): void {
    this.crash();
    this.state = 'stopped';
    this.leaving = false;
  }

  /** kill -9; with `beforeCommit`, before the disk committed the writes queued this turn (they die too). */
  crash(beforeCommit = false): void {
    if (this.life === undefined) return;
    this.disk.crashed(beforeCommit);
    this.state = 'crashed';
    this.network.detach(this.id);
    this.life.store.fence();
    void this.life.parts.transport.close();
    this.life = undefined;
  }

  pause(): void {
    if (this.state === 'running') this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'running';
    this.clock.resume(this.id);
  }
}
