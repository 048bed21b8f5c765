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
 */
import { pino } from 'pino';
import type { NodeConfig } from '../config.js';
import type { VersionedObject } from '../core/versioned.js';
import { assemble } from '../node.js';
import { MemoryStore, DEFAULT_HINT_LIMITS } from '../storage/memory-store.js';
import { newEpoch, type Store } from '../storage/store.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import { DURABLE, type Fate, type Owner, type SimClock } from './sim-clock.js';
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

  get hints(): Store['hints'] {
    return this.disk.hints;
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

export class SimNode {
  state: 'running' | 'paused' | 'crashed' = 'crashed';
  incarnation = 0;
  /** The node's disk: survives crashes and restarts. */
  readonly disk: MemoryStore;
  private life: { parts: Parts; store: FencedStore } | undefined;

  constructor(
    readonly config: NodeConfig,
    private readonly clock: SimClock,
    private readonly network: SimNetwork,
    private readonly random: () => number,
  ) {
    const durable = { node: config.nodeId, incarnation: DURABLE };
    this.disk = new MemoryStore(clock.scheduler(durable), newEpoch(random), DEFAULT_HINT_LIMITS, () => clock.wallMs());
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
    if (owner.incarnation !== DURABLE && (owner.incarnation !== this.incarnation || this.state === 'crashed')) return 'drop';
    return this.state === 'paused' ? 'defer' : 'run';
  }

  /** Starts a new incarnation over the disk. */
  start(): void {
    this.incarnation++;
    this.state = 'running';
    const owner = this.owner;
    const transport = new MemoryTransport(this.network.memory, this.id, undefined, this.clock.scheduler(owner), this.clock.setTimer(owner));
    const store = new FencedStore(this.disk);
    const parts = assemble(this.config, SimNetwork.address(this.id), { transport, timers: this.clock.timers(owner), random: this.random }, silent, () => this.clock.wallMs(), store);
    this.network.attach(owner, parts.replica);
    parts.handoff.start(this.config.hintDeliveryIntervalMs);
    if (this.config.antiEntropyIntervalMs > 0) parts.antiEntropy.start(this.config.antiEntropyIntervalMs);
    this.life = { parts, store };
    // Work deferred while an earlier life was paused: the dead life's is dropped, the disk's runs.
    this.clock.resume(this.id);
  }

  crash(): void {
    if (this.life === undefined) return;
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
