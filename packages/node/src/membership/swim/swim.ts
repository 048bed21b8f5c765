/**
 * The SWIM membership machine with Lifeguard, pure: `tick(nowMs)` and `receive(from, message,
 * nowMs)` in, packets to send and membership events out. No sockets, timers or clocks; the
 * random source is injected. The UDP driver (driver.ts) and the simulator
 * (testing/swim-sim.ts) run the same machine.
 *
 * One protocol period: ping the next member of a shuffled round-robin shared by all members
 * (probe-schedule.ts), or a member someone else suspects; after the probe timeout
 * ask `indirectChecks` members to ping it (ping-req), who answer with its ack or a nack; at
 * the end of the period a member that never acked becomes suspect. A suspicion expires into
 * dead after a Lifeguard timeout that shrinks with independent confirmations. Members refute
 * suspicion of themselves by raising their incarnation. Updates ride on every message (a
 * bounded, retransmit-limited queue) and on a short gossip fan-out while any are pending; a
 * full state exchange runs at join, periodically, and with a random dead member so that
 * partitions heal without an operator.
 */
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.js';
import { overrides, REMOVED_INCARNATION, updateOf } from './precedence.js';
import { ProbeSchedule } from './probe-schedule.js';
import { Suspicion, suspicionMinMs } from './suspicion.js';
import type { Packet, SwimConfig, SwimEvent, SwimMember, SwimMessage, Update } from './types.js';

export interface SwimIdentity {
  readonly id: string;
  readonly gossipAddress: string;
  readonly httpAddress: string;
  /** This member's zone (`--zone`); absent for none. */
  readonly zone?: string;
}

export interface SwimOutput {
  readonly packets: Packet[];
  readonly events: SwimEvent[];
}

/** Counters for /metrics and the simulator. */
export interface SwimStats {
  probes: number;
  probeFailures: number;
  indirectProbes: number;
  suspicions: number;
  refutations: number;
  deaths: number;
}

interface Probe {
  readonly target: string;
  readonly seq: number;
  readonly startedMs: number;
  readonly timeoutMs: number;
  readonly endMs: number;
  indirect: boolean;
  expectedNacks: number;
  nacks: number;
  acked: boolean;
}

interface Relay {
  readonly requester: string;
  readonly requesterSeq: number;
  readonly deadlineMs: number;
}

const JSON_OVERHEAD_BYTES = 160;
/** Forgotten left members remembered (about 100 bytes each); removed ids are never dropped. */
const DEPARTED_MAX = 65_536;

function isLive(member: SwimMember | undefined): boolean {
  return member !== undefined && (member.status === 'alive' || member.status === 'suspect');
}

export class Swim {
  private readonly members = new Map<string, SwimMember>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly relays = new Map<number, Relay>();
  private readonly broadcasts = new BroadcastQueue();
  private incarnation: number;
  private seq = 0;
  private awareness = 0;
  private readonly schedule = new ProbeSchedule();
  /** Members someone else suspects: probed next, out of the schedule, to confirm or clear. */
  private urgent: string[] = [];
  /** Ids of alive and suspect members (this one included), rebuilt after a change. */
  private liveIds: string[] | undefined;
  private probe: Probe | undefined;
  private nextProbeMs: number;
  private readonly phaseMs: number;
  private nextGossipMs: number;
  private nextPushPullMs: number;
  private nextDeadProbeMs: number;
  private nextForgetMs = 0;
  /**
   * Members forgotten after they left (id → the incarnation they left at), so gossip from a
   * member that slept through their departure cannot bring them back alive; removed ids
   * (REMOVED_INCARNATION) are kept forever and spread in push/pull. Bounded: past
   * DEPARTED_MAX the oldest non-removed entries go first.
   */
  private readonly departed = new Map<string, number>();
  private selfRemoved = false;
  private leaving = false;
  /** Draining before a stop (depart): our own death notice is not refuted. */
  private departing = false;
  /** Push-pulls from other members merged (fullStatesMerged). */
  private fullStates = 0;
  /** Cached number of alive or suspect members, kept by setMember. */
  private live = 0;
  /** Cached member ids for random picks; undefined after a member was added or removed. */
  private idCache: string[] | undefined;
  private packets: Packet[] = [];
  private events: SwimEvent[] = [];
  readonly stats: SwimStats = { probes: 0, probeFailures: 0, indirectProbes: 0, suspicions: 0, refutations: 0, deaths: 0 };

  /**
   * `startMs` seeds the incarnation: a restarted member starts above every incarnation its
   * previous life could have used (one refutation per ms would be needed to catch up), so a
   * stale death notice cannot keep it dead (memberlist#311).
   */
  constructor(
    readonly self: SwimIdentity,
    private readonly config: SwimConfig,
    private readonly random: () => number,
    startMs: number,
  ) {
    this.incarnation = Math.max(1, Math.floor(startMs));
    this.setMember({ ...self, status: 'alive', incarnation: this.incarnation, changedMs: startMs });
    this.broadcasts.push(updateOf(this.members.get(self.id)!, self.id));
    // Probes start at a fixed offset into each wall-clock period (so members do not fire in
    // lockstep) and stay there: a drifting start would now and then skip a period and leave
    // the member that period's schedule assigns to us unprobed.
    this.phaseMs = Math.floor(this.random() * config.probeIntervalMs * 0.5);
    this.nextProbeMs = this.periodStartMs(this.periodIndex(startMs) + 1);
    this.nextGossipMs = startMs;
    this.nextPushPullMs = startMs + config.pushPullIntervalMs;
    this.nextDeadProbeMs = startMs + config.deadProbeIntervalMs;
  }

  // ---- Views ----------------------------------------------------------------------------

  member(id: string): SwimMember | undefined {
    return this.members.get(id);
  }

  allMembers(): SwimMember[] {
    return [...this.members.values()];
  }

  /** Members neither dead nor left (for sizing timeouts and retransmits). */
  liveCount(): number {
    return this.live;
  }

  /**
   * Full member lists merged from other members so far (push-pulls, the join's among them): a
   * member that has merged none knows only what pings told it, maybe only itself (the driver's
   * `joined`).
   */
  get fullStatesMerged(): number {
    return this.fullStates;
  }

  /** Lifeguard's local health score: 0 is healthy; timeouts scale by score + 1. */
  get health(): number {
    return this.awareness;
  }

  get currentIncarnation(): number {
    return this.incarnation;
  }

  // ---- Inputs ---------------------------------------------------------------------------

  /**
   * Adopts a known member list without disseminating it (each member already knows it): for
   * restoring a saved table, and for simulations that start from a converged cluster.
   */
  seed(state: readonly Update[], nowMs: number): SwimOutput {
    for (const update of state) {
      this.apply(update, nowMs);
      if (update.id !== this.self.id) this.broadcasts.delete(update.id);
    }
    return this.flush(nowMs);
  }

  /** Starts a join: a full state exchange with each seed address. */
  join(seeds: readonly string[], nowMs: number): SwimOutput {
    for (const seed of seeds) if (seed !== this.self.gossipAddress) this.send(seed, this.pushPull(false));
    return this.flush(nowMs);
  }

  /**
   * Graceful leave: announce `left` directly to every live member (up to 1,024; a leave is
   * rare and must not be mistaken for a death) and through gossip for the rest.
   */
  leave(nowMs: number): SwimOutput {
    this.leaving = true;
    const left: Update = { kind: 'left', id: this.self.id, incarnation: this.incarnation, from: this.self.id };
    this.setMember({ ...this.members.get(this.self.id)!, status: 'left', changedMs: nowMs });
    this.broadcasts.push(left);
    for (const member of this.pick(1024, (m) => m.status === 'alive' || m.status === 'suspect')) {
      this.send(member.gossipAddress, { type: 'gossip', from: this.self.id, updates: [left] });
    }
    return this.flush(nowMs);
  }

  /**
   * A drain before a stop (SIGTERM): this node announces itself `dead` at its own incarnation,
   * directly to every live member (up to 1,024) and through gossip, so that peers stop routing
   * to it now instead of after a failure detection, while it keeps its place in the ring (a
   * dead member keeps its tokens: nothing is handed off, hints cover the writes it misses).
   * memberlist's Leave sends the same dead notice about itself. It does not refute the notice
   * while it lasts; a restart's new incarnation (its start time) brings it back alive. Its own
   * record stays alive here, so what it still says about itself (push/pull) cannot outbid the
   * notice at the same incarnation.
   */
  depart(nowMs: number): SwimOutput {
    this.departing = true;
    const dead: Update = { kind: 'dead', id: this.self.id, incarnation: this.incarnation, from: this.self.id };
    this.broadcasts.push(dead);
    for (const member of this.pick(1024, (m) => m.status === 'alive' || m.status === 'suspect')) {
      this.send(member.gossipAddress, { type: 'gossip', from: this.self.id, updates: [dead] });
    }
    return this.flush(nowMs);
  }

  /**
   * An operator removes a dead member for good: `left` at its current incarnation, which beats
   * the `dead` notice everyone holds (precedence.ts). If that node ever starts again, its new
   * incarnation (its start time) beats `left` and it rejoins like a new member.
   */
  remove(id: string, nowMs: number): SwimOutput {
    if (id !== this.self.id) this.apply({ kind: 'left', id, incarnation: REMOVED_INCARNATION, from: this.self.id }, nowMs);
    return this.flush(nowMs);
  }

  /** Ids removed for good before this process started (kept on disk by the node). */
  restoreRemoved(ids: Iterable<string>): void {
    for (const id of ids) if (id !== this.self.id && !this.members.has(id)) this.departed.set(id, REMOVED_INCARNATION);
  }

  /** Whether `id` was removed for good. */
  isRemoved(id: string): boolean {
    return this.departed.get(id) === REMOVED_INCARNATION || (this.members.get(id)?.status === 'left' && this.members.get(id)?.incarnation === REMOVED_INCARNATION);
  }

  tick(nowMs: number): SwimOutput {
    this.tickProbe(nowMs);
    this.tickRelays(nowMs);
    this.tickSuspicions(nowMs);
    this.tickGossip(nowMs);
    this.tickPushPull(nowMs);
    this.forgetDeparted(nowMs);
    return this.flush(nowMs);
  }

  receive(fromAddress: string, message: SwimMessage, nowMs: number): SwimOutput {
    for (const update of message.updates) this.apply(update, nowMs);
    switch (message.type) {
      case 'ping':
        if (message.target === this.self.id) this.send(fromAddress, { type: 'ack', seq: message.seq, from: this.self.id, updates: [] });
        break;
      case 'ack':
        this.onAck(message.seq);
        break;
      case 'nack':
        if (this.probe?.seq === message.seq) this.probe.nacks++;
        break;
      case 'ping-req':
        this.onPingReq(fromAddress, message.seq, message.target, message.targetAddress, nowMs);
        break;
      case 'push-pull':
        for (const update of message.state) this.apply(update, nowMs);
        if (message.from !== this.self.id) this.fullStates++;
        if (!message.reply) this.send(fromAddress, this.pushPull(true));
        break;
      case 'gossip':
        break;
    }
    return this.flush(nowMs);
  }

  // ---- Probing --------------------------------------------------------------------------

  private scaled(ms: number): number {
    return ms * (this.awareness + 1);
  }

  private tickProbe(nowMs: number): void {
    const probe = this.probe;
    if (probe !== undefined) {
      if (!probe.acked && !probe.indirect && nowMs >= probe.startedMs + probe.timeoutMs) this.sendIndirect(probe);
      // Every helper has said the target did not answer it either: no need to wait out the period.
      const allNacked = probe.indirect && probe.expectedNacks > 0 && probe.nacks >= probe.expectedNacks;
      if (nowMs >= probe.endMs || allNacked) this.finishProbe(probe, nowMs);
    }
    if (this.probe === undefined && nowMs >= this.nextProbeMs) {
      // Lifeguard: an unhealthy member probes only every (awareness + 1)th period.
      const period = this.periodIndex(nowMs);
      this.nextProbeMs = this.periodStartMs(period + this.awareness + 1);
      this.startProbe(nowMs, period);
    }
  }

  private periodIndex(nowMs: number): number {
    return Math.floor((nowMs - this.phaseMs) / this.config.probeIntervalMs);
  }

  private periodStartMs(period: number): number {
    return period * this.config.probeIntervalMs + this.phaseMs;
  }

  private nextTarget(period: number): SwimMember | undefined {
    while (this.urgent.length > 0) {
      const member = this.members.get(this.urgent.shift()!);
      if (member !== undefined && member.status === 'suspect') return member;
    }
    if (this.liveIds === undefined) this.liveIds = [...this.members.values()].filter(isLive).map((member) => member.id);
    const id = this.schedule.target(this.self.id, this.liveIds, period);
    return id === undefined ? undefined : this.members.get(id);
  }

  private startProbe(nowMs: number, period: number): void {
    const target = this.nextTarget(period);
    if (target === undefined) return;
    const seq = ++this.seq;
    const timeoutMs = this.scaled(this.config.probeTimeoutMs);
    this.probe = {
      target: target.id,
      seq,
      startedMs: nowMs,
      timeoutMs,
      // Until the next probe is due (a probe started late by a slow tick still ends on time).
      endMs: Math.max(this.nextProbeMs, nowMs + 2 * timeoutMs),
      indirect: false,
      expectedNacks: 0,
      nacks: 0,
      acked: false,
    };
    this.stats.probes++;
    // Buddy system (Lifeguard §3.3): a suspected member hears of its suspicion first.
    const buddy: Update[] = target.status === 'suspect' ? [updateOf(target, this.self.id)] : [];
    this.send(target.gossipAddress, { type: 'ping', seq, from: this.self.id, target: target.id, updates: buddy });
  }

  private sendIndirect(probe: Probe): void {
    probe.indirect = true;
    const target = this.members.get(probe.target);
    if (target === undefined) return;
    const helpers = this.pick(this.config.indirectChecks, (m) => m.status === 'alive' && m.id !== probe.target);
    probe.expectedNacks = helpers.length;
    this.stats.indirectProbes += helpers.length;
    for (const helper of helpers) {
      this.send(helper.gossipAddress, {
        type: 'ping-req',
        seq: probe.seq,
        from: this.self.id,
        target: target.id,
        targetAddress: target.gossipAddress,
        updates: [],
      });
    }
  }

  private onAck(seq: number): void {
    if (this.probe?.seq === seq) {
      this.probe.acked = true;
      return;
    }
    const relay = this.relays.get(seq);
    if (relay !== undefined) {
      this.relays.delete(seq);
      this.send(relay.requester, { type: 'ack', seq: relay.requesterSeq, from: this.self.id, updates: [] });
    }
  }

  /** Ends a probe: success lowers the local health score; failure raises it and suspects. */
  private finishProbe(probe: Probe, nowMs: number): void {
    this.probe = undefined;
    if (probe.acked) {
      this.awareness = Math.max(0, this.awareness - 1);
      return;
    }
    this.stats.probeFailures++;
    // Lifeguard: missing nacks mean our own messages may not be getting through.
    const delta = probe.expectedNacks > 0 ? probe.expectedNacks - probe.nacks : 1;
    this.awareness = Math.min(this.config.awarenessMax, this.awareness + Math.max(0, delta));
    const target = this.members.get(probe.target);
    // Suspecting an already-suspect member is an independent confirmation (Lifeguard): it
    // shortens everyone's suspicion timeout.
    if (target !== undefined && (target.status === 'alive' || target.status === 'suspect')) {
      this.apply({ kind: 'suspect', id: target.id, incarnation: target.incarnation, from: this.self.id }, nowMs);
    }
  }

  private onPingReq(requester: string, requesterSeq: number, target: string, targetAddress: string, nowMs: number): void {
    const seq = ++this.seq;
    this.relays.set(seq, { requester, requesterSeq, deadlineMs: nowMs + this.scaled(this.config.probeTimeoutMs) });
    this.send(targetAddress, { type: 'ping', seq, from: this.self.id, target, updates: [] });
  }

  private tickRelays(nowMs: number): void {
    for (const [seq, relay] of this.relays) {
      if (nowMs < relay.deadlineMs) continue;
      this.relays.delete(seq);
      this.send(relay.requester, { type: 'nack', seq: relay.requesterSeq, from: this.self.id, updates: [] });
    }
  }

  // ---- Suspicion, dissemination, full sync ------------------------------------------------

  private tickSuspicions(nowMs: number): void {
    for (const [id, suspicion] of this.suspicions) {
      if (nowMs < suspicion.deadlineMs()) continue;
      this.suspicions.delete(id);
      const member = this.members.get(id);
      if (member?.status === 'suspect' && member.incarnation === suspicion.incarnation) {
        this.apply({ kind: 'dead', id, incarnation: member.incarnation, from: this.self.id }, nowMs);
      }
    }
  }

  private tickGossip(nowMs: number): void {
    if (nowMs < this.nextGossipMs) return;
    this.nextGossipMs = nowMs + this.config.gossipIntervalMs;
    if (this.broadcasts.size === 0) return;
    for (const member of this.pick(this.config.gossipNodes, (m) => m.status === 'alive' || m.status === 'suspect')) {
      const updates = this.takeUpdates();
      if (updates.length === 0) break;
      this.packets.push({ to: member.gossipAddress, message: { type: 'gossip', from: this.self.id, updates } });
    }
  }

  private tickPushPull(nowMs: number): void {
    if (this.config.pushPullIntervalMs > 0 && nowMs >= this.nextPushPullMs) {
      this.nextPushPullMs = nowMs + this.config.pushPullIntervalMs;
      const [peer] = this.pick(1, (m) => m.status === 'alive');
      if (peer !== undefined) this.send(peer.gossipAddress, this.pushPull(false));
    }
    if (nowMs >= this.nextDeadProbeMs) {
      this.nextDeadProbeMs = nowMs + this.config.deadProbeIntervalMs;
      const [dead] = this.pick(1, (m) => m.status === 'dead');
      if (dead !== undefined) this.send(dead.gossipAddress, this.pushPull(false));
    }
  }

  private forgetDeparted(nowMs: number): void {
    if (nowMs < this.nextForgetMs) return;
    this.nextForgetMs = nowMs + 1_000; // a scan of every member: once a second is plenty
    for (const member of this.members.values()) {
      if (member.status === 'left' && member.id !== this.self.id && nowMs - member.changedMs > this.config.leftRetainMs) {
        this.members.delete(member.id); // left members are not live: the cached count is unchanged
        this.departed.set(member.id, member.incarnation);
        this.idCache = undefined;
        this.events.push({ kind: 'forget', member });
      }
    }
    if (this.departed.size > DEPARTED_MAX) {
      for (const [id, incarnation] of this.departed) {
        if (this.departed.size <= DEPARTED_MAX) break;
        if (incarnation !== REMOVED_INCARNATION) this.departed.delete(id);
      }
    }
  }

  private pushPull(reply: boolean): SwimMessage {
    const state = [...this.members.values()].map((member) => updateOf(member, this.self.id));
    // Removals outlive the member table: every member learns them, however late it joined.
    for (const [id, incarnation] of this.departed) {
      if (incarnation === REMOVED_INCARNATION) state.push({ kind: 'left', id, incarnation, from: this.self.id });
    }
    return { type: 'push-pull', from: this.self.id, reply, state, updates: [] };
  }

  // ---- Applying updates -------------------------------------------------------------------

  /** Applies an update with the precedence rules; refutes one about this member. */
  private apply(update: Update, nowMs: number): void {
    if (update.id === this.self.id) {
      this.refuteIfNeeded(update, nowMs);
      return;
    }
    const current = this.members.get(update.id);
    if (current === undefined && this.departed.has(update.id)) {
      // A member forgotten after it left: only a new life (a higher incarnation) may rejoin,
      // and a removed one never can.
      if (update.kind !== 'alive' || update.incarnation <= this.departed.get(update.id)!) return;
      this.departed.delete(update.id);
    }
    if (current === undefined && update.kind === 'left' && update.incarnation === REMOVED_INCARNATION) {
      // A removal of a member this one never knew (or forgot): remember it all the same.
      this.departed.set(update.id, REMOVED_INCARNATION);
      this.broadcasts.push(update);
      this.events.push({ kind: 'removed', id: update.id });
      return;
    }
    if (update.kind === 'suspect' && current?.status === 'suspect' && update.incarnation === current.incarnation) {
      // An independent confirmation shortens the suspicion (Lifeguard) and is passed on.
      if (this.suspicions.get(update.id)?.confirm(update.from)) this.broadcasts.push(update);
      return;
    }
    if (!overrides(current, update)) return;
    const next: SwimMember =
      update.kind === 'alive'
        ? { id: update.id, gossipAddress: update.gossipAddress, httpAddress: update.httpAddress, ...(update.zone === undefined ? {} : { zone: update.zone }), status: 'alive', incarnation: update.incarnation, changedMs: nowMs }
        : { ...current!, status: update.kind, incarnation: update.incarnation, changedMs: nowMs };
    this.setMember(next);
    this.suspicions.delete(update.id);
    if (update.kind === 'suspect') {
      this.startSuspicion(next, update.from, nowMs);
      // Heard from someone else: our next probe goes to it, instead of one from the schedule,
      // so that independent confirmations (or the evidence against them) come within a period
      // and the Lifeguard timeout can shrink. No extra traffic: it takes a scheduled probe's
      // place.
      if (update.from !== this.self.id && this.probe?.target !== update.id && !this.urgent.includes(update.id)) this.urgent.push(update.id);
    }
    if (next.status === 'dead') this.stats.deaths++;
    if (next.status === 'left' && next.incarnation === REMOVED_INCARNATION) this.events.push({ kind: 'removed', id: next.id });
    this.broadcasts.push(update);
    // What this member found out itself (a suspicion, a death) is news nobody else has: push
    // it at the next tick rather than waiting out the gossip interval.
    if (update.kind !== 'alive' && update.from === this.self.id) this.nextGossipMs = Math.min(this.nextGossipMs, nowMs);
    if (current === undefined) {
      this.events.push({ kind: 'join', member: next });
    } else if (current.status !== next.status || current.incarnation !== next.incarnation) {
      this.events.push({ kind: 'update', member: next, previous: current.status });
    }
  }

  private startSuspicion(member: SwimMember, from: string, nowMs: number): void {
    this.stats.suspicions++;
    const live = this.liveCount();
    const minMs = suspicionMinMs(live, this.config.suspicionMult, this.config.probeIntervalMs);
    const expected = Math.max(0, Math.min(3, live - 2));
    this.suspicions.set(member.id, new Suspicion(member.incarnation, nowMs, minMs, minMs * this.config.suspicionMaxMult, expected, from));
  }

  private refuteIfNeeded(update: Update, nowMs: number): void {
    if (update.kind === 'left' && update.incarnation === REMOVED_INCARNATION) {
      // An operator removed this identity: no incarnation can outbid it. Stop taking part.
      if (!this.selfRemoved) this.events.push({ kind: 'self-removed' });
      this.selfRemoved = true;
      this.leaving = true;
      return;
    }
    if (this.leaving || this.departing) return;
    const stale = update.incarnation < this.incarnation;
    if (update.kind === 'alive' ? update.incarnation <= this.incarnation : stale) return;
    // Someone believes an older or equal-incarnation story about us: outbid it.
    this.incarnation = Math.max(this.incarnation, update.incarnation) + 1;
    if (update.kind !== 'alive') {
      this.awareness = Math.min(this.config.awarenessMax, this.awareness + 1);
      this.stats.refutations++;
    }
    const self = { ...this.members.get(this.self.id)!, status: 'alive' as const, incarnation: this.incarnation, changedMs: nowMs };
    this.setMember(self);
    this.broadcasts.push(updateOf(self, this.self.id));
    this.events.push({ kind: 'refute', incarnation: this.incarnation });
  }

  private setMember(member: SwimMember): void {
    if (!this.members.has(member.id)) this.idCache = undefined;
    const change = (isLive(member) ? 1 : 0) - (isLive(this.members.get(member.id)) ? 1 : 0);
    if (change !== 0) this.liveIds = undefined;
    this.live += change;
    this.members.set(member.id, member);
  }

  // ---- Output -----------------------------------------------------------------------------

  private takeUpdates(): Update[] {
    const limit = retransmitLimit(this.config.retransmitMult, this.liveCount());
    return this.broadcasts.take(this.config.piggybackMax, this.config.packetBytesMax - JSON_OVERHEAD_BYTES, limit);
  }

  /** Queues a message, piggybacking pending updates on it (after any it already carries). */
  private send(to: string, message: SwimMessage): void {
    if (message.type === 'push-pull' || message.type === 'gossip') {
      this.packets.push({ to, message });
      return;
    }
    const updates = [...message.updates, ...this.takeUpdates()];
    this.packets.push({ to, message: { ...message, updates } });
  }

  private flush(_nowMs: number): SwimOutput {
    const output = { packets: this.packets, events: this.events };
    this.packets = [];
    this.events = [];
    return output;
  }

  /**
   * Up to `count` distinct random members other than this one that satisfy `accept`. Samples
   * the cached id list (rebuilt only after membership changes) with a bounded number of
   * draws, then falls back to a scan, so it stays cheap at 1,000 members.
   */
  private pick(count: number, accept: (member: SwimMember) => boolean): SwimMember[] {
    if (this.idCache === undefined) this.idCache = [...this.members.keys()];
    const ids = this.idCache;
    const out: SwimMember[] = [];
    const chosen = new Set<string>([this.self.id]);
    for (let draws = 0; out.length < count && draws < count * 8 && ids.length > 1; draws++) {
      const id = ids[Math.floor(this.random() * ids.length)]!;
      if (chosen.has(id)) continue;
      chosen.add(id);
      const member = this.members.get(id);
      if (member !== undefined && accept(member)) out.push(member);
    }
    if (out.length < count) {
      const rest = ids.filter((id) => !chosen.has(id)).map((id) => this.members.get(id)!).filter((m) => m !== undefined && accept(m));
      while (out.length < count && rest.length > 0) {
        const index = Math.floor(this.random() * rest.length);
        out.push(rest[index]!);
        rest[index] = rest[rest.length - 1]!;
        rest.pop();
      }
    }
    return out;
  }
}
