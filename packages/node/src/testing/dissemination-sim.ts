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

export function disseminate(options: DisseminationOptions, maxMs = 30_000): DisseminationResult {
  const config = { ...defaultSwimConfig, ...options.config };
  const { members: n, lossRate = 0, minDelayMs = 1, maxDelayMs = 10, tickMs = 10 } = options;
  const random = seededRandom(options.seed);
  const ids = Array.from({ length: n }, (_, i) => `m${i}`);
  const index = new Map(ids.map((id, i) => [id, i]));
  const schedule = new ProbeSchedule();
  const limit = retransmitLimit(config.retransmitMult, n);
  const update: Update = { kind: 'alive', id: 'm0', incarnation: 2, gossipAddress: 'sim:m0', httpAddress: 'http://m0' };
  const learnedMs = new Float64Array(n).fill(Number.NaN);
  const queues: Array<BroadcastQueue | undefined> = new Array(n);
  const probePhase = Array.from({ length: n }, () => Math.floor(random() * config.probeIntervalMs * 0.5));
  const gossipPhase = Array.from({ length: n }, () => Math.floor(random() * config.gossipIntervalMs));
  const inFlight = new EventHeap<Delivery>();
  let nowMs = 0;
  let reached = 0;
  let datagrams = 0;

  const learn = (member: number): void => {
    if (!Number.isNaN(learnedMs[member]!)) return;
    learnedMs[member] = nowMs;
    reached++;
    const queue = new BroadcastQueue();
    queue.push(update);
    queues[member] = queue;
  };
  /** Whether a message from `member` carries the update (and counts a transmission). */
  const piggyback = (member: number): boolean => (queues[member]?.take(config.piggybackMax, config.packetBytesMax, limit).length ?? 0) > 0;
  const send = (from: number, to: number, carries: boolean, ping: boolean): void => {
    datagrams++;
    if (random() < lossRate) return;
    inFlight.push({ atMs: nowMs + minDelayMs + random() * (maxDelayMs - minDelayMs), from, to, carries, ping });
  };

  learn(0); // the member whose update it is (a refutation or a restart)
  let stepStart = 0;
  while (reached < n && stepStart < maxMs) {
    // Timers due in (stepStart, stepEnd] fire at the end of the step, after the deliveries.
    const stepEnd = stepStart + tickMs;
    const due = (phase: number, interval: number): boolean => {
      const at = Math.floor((stepEnd - phase) / interval) * interval + phase;
      return at > stepStart && at <= stepEnd;
    };
    for (let next = inFlight.peek(); next !== undefined && next.atMs <= stepEnd; next = inFlight.peek()) {
      const delivery = inFlight.pop()!;
      nowMs = delivery.atMs;
      if (delivery.carries) learn(delivery.to);
      if (delivery.ping) send(delivery.to, delivery.from, piggyback(delivery.to), false);
    }
    nowMs = stepEnd;
    for (let member = 0; member < n; member++) {
      // Probes: at phase + k * period, to the scheduled target, carrying what is pending.
      if (due(probePhase[member]!, config.probeIntervalMs)) {
        const period = Math.floor((stepEnd - probePhase[member]!) / config.probeIntervalMs);
        const target = index.get(schedule.target(ids[member]!, ids, period) ?? '');
        if (target !== undefined) send(member, target, piggyback(member), true);
      }
      // Gossip: while anything is pending, to `gossipNodes` random others.
      const queue = queues[member];
      if (queue === undefined || queue.size === 0 || !due(gossipPhase[member]!, config.gossipIntervalMs)) continue;
      for (let sent = 0; sent < config.gossipNodes && queue.size > 0; sent++) {
        let to = Math.floor(random() * (n - 1));
        if (to >= member) to++;
        send(member, to, piggyback(member), false);
      }
    }
    stepStart = stepEnd;
  }
  const finished = reached === n;
  return {
    reachedAllMs: finished ? learnedMs.reduce((a, b) => Math.max(a, b), 0) : undefined,
    reached,
    datagramsPerMemberPerSecond: datagrams / n / (nowMs / 1000),
  };
}
