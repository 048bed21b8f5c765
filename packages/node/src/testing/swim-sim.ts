/**
 * A seeded, deterministic simulator for the SWIM machine (TigerBeetle VOPR style): many
 * `Swim` instances, a simulated network with delay, loss, one-way partitions and paused
 * members, and a manual clock, all driven by one PRNG. The same seed replays the same run.
 *
 * Time advances in steps of `tickMs`; within a step, datagrams are delivered in time order
 * at their exact arrival times, then every running member ticks. A paused member neither
 * ticks nor receives: its datagrams wait (as in a socket buffer) until it resumes. A crashed
 * member loses everything; a restarted one is a new instance with the same id and address.
 */
import { Swim } from '../membership/swim/swim.js';
import { defaultSwimConfig, type SwimConfig, type SwimEvent, type SwimMessage, type SwimStatus } from '../membership/swim/types.js';
import { EventHeap } from './event-heap.js';
import { seededRandom } from './rng.js';

export interface SwimSimOptions {
  readonly seed: number;
  /** Probability that a datagram is lost. */
  readonly lossRate?: number;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly tickMs?: number;
  readonly config?: Partial<SwimConfig>;
}

interface Delivery {
  readonly atMs: number;
  readonly from: string;
  readonly to: string;
  readonly message: SwimMessage;
}

interface SimMember {
  swim: Swim;
  state: 'running' | 'paused' | 'crashed';
  /** Datagrams that arrived while paused. */
  buffered: Delivery[];
}

export class SwimSim {
  nowMs = 0;
  readonly config: SwimConfig;
  readonly random: () => number;
  private readonly members = new Map<string, SimMember>();
  private readonly inFlight = new EventHeap<Delivery>();
  private readonly blocked = new Set<string>();
  private readonly options: { -readonly [K in keyof Required<Omit<SwimSimOptions, 'config'>>]: Required<SwimSimOptions>[K] };
  /** Datagrams sent by each member (push-pull excluded: it travels over TCP in production). */
  readonly datagramsSent = new Map<string, number>();
  /** Every event, with the observer and the time, for the tests' measurements. */
  readonly listeners: Array<(observer: string, event: SwimEvent, atMs: number) => void> = [];

  constructor(options: SwimSimOptions) {
    this.options = { lossRate: 0, minDelayMs: 1, maxDelayMs: 10, tickMs: 20, ...options };
    this.config = { ...defaultSwimConfig, ...options.config };
    this.random = seededRandom(options.seed);
  }

  private address(id: string): string {
    return `sim:${id}`;
  }

  private idOf(address: string): string {
    return address.slice(4);
  }

  /** Starts a member that joins through `seeds` (ids). */
  start(id: string, seeds: readonly string[] = []): void {
    const swim = new Swim({ id, gossipAddress: this.address(id), httpAddress: `http://${id}` }, this.config, this.random, this.nowMs);
    this.members.set(id, { swim, state: 'running', buffered: [] });
    this.dispatch(id, swim.join(seeds.map((seed) => this.address(seed)), this.nowMs));
  }

  /** Starts `count` members m0..m{count-1}, each joining through m0, and runs until all agree. */
  bootstrap(count: number, maxMs = 120_000): string[] {
    const ids = Array.from({ length: count }, (_, i) => `m${i}`);
    ids.forEach((id, i) => this.start(id, i === 0 ? [] : ['m0']));
    const converged = this.runUntil(() => ids.every((id) => this.members.get(id)!.swim.liveCount() === count), maxMs);
    if (!converged) throw new Error(`bootstrap of ${count} members did not converge in ${maxMs} ms`);
    return ids;
  }

  /**
   * Starts `count` members m0..m{count-1} that already know each other (no join storm), as a
   * converged cluster would be: for measuring steady-state behaviour at large sizes.
   */
  converged(count: number): string[] {
    const ids = Array.from({ length: count }, (_, i) => `m${i}`);
    for (const id of ids) this.start(id);
    const state = ids.map((id) => {
      const swim = this.members.get(id)!.swim;
      return { kind: 'alive' as const, id, incarnation: swim.currentIncarnation, gossipAddress: this.address(id), httpAddress: `http://${id}` };
    });
    for (const id of ids) this.dispatch(id, this.members.get(id)!.swim.seed(state, this.nowMs));
    return ids;
  }

  crash(id: string): void {
    this.members.get(id)!.state = 'crashed';
  }

  restart(id: string, seeds: readonly string[]): void {
    this.start(id, seeds);
  }

  /** `observer` removes `id` for good, as an operator's POST /admin/remove does. */
  remove(observer: string, id: string): void {
    this.dispatch(observer, this.members.get(observer)!.swim.remove(id, this.nowMs));
  }

  /** `id` leaves the ring gracefully. */
  leave(id: string): void {
    this.dispatch(id, this.members.get(id)!.swim.leave(this.nowMs));
  }

  /** `id` drains before a stop: it announces itself dead and keeps running (Swim.depart). */
  depart(id: string): void {
    this.dispatch(id, this.members.get(id)!.swim.depart(this.nowMs));
  }

  pause(id: string): void {
    this.members.get(id)!.state = 'paused';
  }

  resume(id: string): void {
    const member = this.members.get(id)!;
    member.state = 'running';
    const buffered = member.buffered;
    member.buffered = [];
    for (const delivery of buffered) this.deliver({ ...delivery, atMs: this.nowMs });
  }

  /** Cuts traffic between two groups (both ways unless `oneWay`). */
  partition(a: readonly string[], b: readonly string[], oneWay = false): void {
    for (const x of a) {
      for (const y of b) {
        this.blocked.add(`${x}>${y}`);
        if (!oneWay) this.blocked.add(`${y}>${x}`);
      }
    }
  }

  /** Changes the datagram loss rate from now on. */
  setLossRate(lossRate: number): void {
    this.options.lossRate = lossRate;
  }

  heal(): void {
    this.blocked.clear();
  }

  /** What `observer` believes about `target` (undefined if unknown or observer not running). */
  status(observer: string, target: string): SwimStatus | undefined {
    const member = this.members.get(observer);
    if (member === undefined || member.state === 'crashed') return undefined;
    return member.swim.member(target)?.status;
  }

  swim(id: string): Swim {
    return this.members.get(id)!.swim;
  }

  runningIds(): string[] {
    return [...this.members].filter(([, m]) => m.state === 'running').map(([id]) => id);
  }

  run(durationMs: number): void {
    const until = this.nowMs + durationMs;
    while (this.nowMs < until) this.step();
  }

  /** Runs until `condition` holds (checked every step) or `maxMs` passes; true if it held. */
  runUntil(condition: () => boolean, maxMs: number): boolean {
    const until = this.nowMs + maxMs;
    while (this.nowMs < until) {
      if (condition()) return true;
      this.step();
    }
    return condition();
  }

  private step(): void {
    const stepEnd = this.nowMs + this.options.tickMs;
    for (let next = this.inFlight.peek(); next !== undefined && next.atMs <= stepEnd; next = this.inFlight.peek()) {
      this.nowMs = next.atMs;
      this.deliver(this.inFlight.pop()!);
    }
    this.nowMs = stepEnd;
    for (const [id, member] of this.members) {
      if (member.state === 'running') this.dispatch(id, member.swim.tick(this.nowMs));
    }
  }

  private deliver(delivery: Delivery): void {
    const member = this.members.get(this.idOf(delivery.to));
    if (member === undefined || member.state === 'crashed') return;
    if (member.state === 'paused') {
      member.buffered.push(delivery);
      return;
    }
    this.dispatch(this.idOf(delivery.to), member.swim.receive(delivery.from, delivery.message, this.nowMs));
  }

  private dispatch(from: string, output: ReturnType<Swim['tick']>): void {
    for (const event of output.events) for (const listener of this.listeners) listener(from, event, this.nowMs);
    for (const packet of output.packets) {
      if (packet.message.type !== 'push-pull') this.datagramsSent.set(from, (this.datagramsSent.get(from) ?? 0) + 1);
      const to = this.idOf(packet.to);
      if (this.blocked.has(`${from}>${to}`)) continue;
      if (packet.message.type !== 'push-pull' && this.random() < this.options.lossRate) continue;
      const { minDelayMs, maxDelayMs } = this.options;
      const delay = minDelayMs + this.random() * (maxDelayMs - minDelayMs);
      this.inFlight.push({ atMs: this.nowMs + delay, from: this.address(from), to: packet.to, message: packet.message });
    }
  }
}
