/**
 * How one membership update spreads through an otherwise idle ring, at sizes the full
 * simulator (swim-sim.ts) cannot reach: there every member keeps a record of every other, so
 * 10,000 members would need 10^8 records. Here a member is only whether it knows the update
 * and its own broadcast queue, and the parts that decide the spread are the real ones: the
 * BroadcastQueue with its retransmit limit, the ProbeSchedule, and swim.ts's timing (every
 * gossip interval a member with something pending pushes it to `gossipNodes` random members;
 * every probe period, at its own phase, it pings its scheduled target, which acks; pings and
 * acks carry pending updates). Datagrams are lost with `lossRate` and delayed uniformly. What
 * it leaves out (membership changes during the spread, indirect probes after a lost ping)
 * only adds carriers in the real machine. test/sim/swim.test.ts checks it against SwimSim at
 * 1,000 members.
 */
import { BroadcastQueue, retransmitLimit } from '../membership/swim/broadcast-queue.js';
import { ProbeSchedule } from '../membership/swim/probe-schedule.js';
import { defaultSwimConfig, type SwimConfig, type Update } from '../membership/swim/types.js';
import { EventHeap } from './event-heap.js';
import { seededRandom } from './rng.js';

export interface DisseminationOptions {
  readonly seed: number;
  readonly members: number;
  readonly lossRate?: number;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly tickMs?: number;
  readonly config?: Partial<SwimConfig>;
}

export interface DisseminationResult {
  /** When the last member learned the update, ms after it was issued; undefined if some never did. */
  readonly reachedAllMs: number | undefined;
  /** Members that learned it. */
  readonly reached: number;
  /** Datagrams sent per member per second while it spread (pings and acks included). */
  readonly datagramsPerMemberPerSecond: number;
}

interface Delivery {
  readonly atMs: number;
  readonly to: number;
  readonly from: number;
  readonly carries: boolean;
  readonly ping: boolean;
}

/** One run's state: who knows the update since when, their queues, and the datagrams in flight. */
class Spread {
  readonly n: number;
  readonly ids: string[];
  readonly index: Map<string, number>;
  readonly schedule = new ProbeSchedule();
  readonly limit: number;
  readonly update: Update = { kind: 'alive', id: 'm0', incarnation: 2, gossipAddress: 'sim:m0', httpAddress: 'http://m0' };
  readonly learnedMs: Float64Array;
  readonly queues: Array<BroadcastQueue | undefined>;
  readonly probePhase: number[];
  readonly gossipPhase: number[];
  readonly inFlight = new EventHeap<Delivery>();
  nowMs = 0;
  reached = 0;
  datagrams = 0;

  constructor(
    readonly options: DisseminationOptions,
    readonly config: SwimConfig,
    readonly random: () => number,
  ) {
    this.n = options.members;
    this.ids = Array.from({ length: this.n }, (_, i) => `m${i}`);
    this.index = new Map(this.ids.map((id, i) => [id, i]));
    this.limit = retransmitLimit(config.retransmitMult, this.n);
    this.learnedMs = new Float64Array(this.n).fill(Number.NaN);
    this.queues = new Array(this.n);
    this.probePhase = Array.from({ length: this.n }, () => Math.floor(random() * config.probeIntervalMs * 0.5));
    this.gossipPhase = Array.from({ length: this.n }, () => Math.floor(random() * config.gossipIntervalMs));
  }

  learn(member: number): void {
    if (!Number.isNaN(this.learnedMs[member]!)) return;
    this.learnedMs[member] = this.nowMs;
    this.reached++;
    const queue = new BroadcastQueue();
    queue.push(this.update);
    this.queues[member] = queue;
  }

  /** Whether a message from `member` carries the update (and counts a transmission). */
  piggyback(member: number): boolean {
    return (this.queues[member]?.take(this.config.piggybackMax, this.config.packetBytesMax, this.limit).length ?? 0) > 0;
  }

  send(from: number, to: number, carries: boolean, ping: boolean): void {
    const { lossRate = 0, minDelayMs = 1, maxDelayMs = 10 } = this.options;
    this.datagrams++;
    if (this.random() < lossRate) return;
    this.inFlight.push({ atMs: this.nowMs + minDelayMs + this.random() * (maxDelayMs - minDelayMs), from, to, carries, ping });
  }

  /** Delivers every datagram due by `stepEnd`; a ping is acked, carrying what the target has pending. */
  deliver(stepEnd: number): void {
    for (let next = this.inFlight.peek(); next !== undefined && next.atMs <= stepEnd; next = this.inFlight.peek()) {
      const delivery = this.inFlight.pop()!;
      this.nowMs = delivery.atMs;
      if (delivery.carries) this.learn(delivery.to);
      if (delivery.ping) this.send(delivery.to, delivery.from, this.piggyback(delivery.to), false);
    }
  }

  /** `member`'s timers due in (stepStart, stepEnd]: its probe, and its gossip while anything is pending. */
  fireTimers(member: number, stepStart: number, stepEnd: number): void {
    const { config, n } = this;
    const due = (phase: number, interval: number): boolean => {
      const at = Math.floor((stepEnd - phase) / interval) * interval + phase;
      return at > stepStart && at <= stepEnd;
    };
    // Probes: at phase + k * period, to the scheduled target, carrying what is pending.
    if (due(this.probePhase[member]!, config.probeIntervalMs)) {
      const period = Math.floor((stepEnd - this.probePhase[member]!) / config.probeIntervalMs);
      const target = this.index.get(this.schedule.target(this.ids[member]!, this.ids, period) ?? '');
      if (target !== undefined) this.send(member, target, this.piggyback(member), true);
    }
    // Gossip: while anything is pending, to `gossipNodes` random others.
    const queue = this.queues[member];
    if (queue === undefined || queue.size === 0 || !due(this.gossipPhase[member]!, config.gossipIntervalMs)) return;
    for (let sent = 0; sent < config.gossipNodes && queue.size > 0; sent++) {
      let to = Math.floor(this.random() * (n - 1));
      if (to >= member) to++;
      this.send(member, to, this.piggyback(member), false);
    }
  }
}

export function disseminate(options: DisseminationOptions, maxMs = 30_000): DisseminationResult {
  const config = { ...defaultSwimConfig, ...options.config };
  const { members: n, tickMs = 10 } = options;
  const spread = new Spread(options, config, seededRandom(options.seed));
  spread.learn(0); // the member whose update it is (a refutation or a restart)
  let stepStart = 0;
  while (spread.reached < n && stepStart < maxMs) {
    // Timers due in (stepStart, stepEnd] fire at the end of the step, after the deliveries.
    const stepEnd = stepStart + tickMs;
    spread.deliver(stepEnd);
    spread.nowMs = stepEnd;
    for (let member = 0; member < n; member++) spread.fireTimers(member, stepStart, stepEnd);
    stepStart = stepEnd;
  }
  const finished = spread.reached === n;
  return {
    reachedAllMs: finished ? spread.learnedMs.reduce((a, b) => Math.max(a, b), 0) : undefined,
    reached: spread.reached,
    datagramsPerMemberPerSecond: spread.datagrams / n / (spread.nowMs / 1000),
  };
}
