/**
 * The nemesis of the cluster simulation (Jepsen's word): every `intervalMs` (seeded) it
 * injects one fault, which heals itself after a seeded duration; faults overlap. `healAll`
 * ends every fault at once.
 *
 * Process and network faults: crash and later restart a node (kill -9: its process state is
 * gone, its disk stays); drain one (SIGTERM: its peers are told it is dead, it serves a little
 * longer, then stops, and later restarts); crash every node of one zone at once (a zone
 * outage), restarted together later; a crash before the disk committed what was queued; a disk
 * whose commits fail for a while; pause and later resume one (SIGSTOP/SIGCONT); cut one or two nodes off
 * from the rest, both ways or one way only; a burst of message loss. At most `downMax` nodes
 * are crashed or paused at once, so quorums stay possible some of the time.
 *
 * Membership and clock faults (issue 19; Jepsen's membership nemesis, riak_kv's eqc
 * join/leave/remove): a new node joins; a member leaves gracefully (sometimes cut off from a
 * peer as it does); an operator removes a crashed member (it never comes back, except perhaps
 * as a zombie after the heal, see ClusterSim); a node restarts on a wiped data dir, as the same
 * id or as a new member (the old id removed); a node's wall clock steps forwards or back,
 * within or beyond the tombstone grace, corrected later or only at the heal, or steps back
 * across a restart. The ring always keeps at least `ringMin` members, so N = 3 means something;
 * at most `destructiveMax` disks are lost a seed (a wipe or a removal: with W = 2 a second loss
 * before anti-entropy caught up could legitimately lose a write), and membership and clock
 * faults are bounded per seed.
 */
import type { SimRing } from './sim-membership.js';
import type { NetworkOptions } from './sim-network.js';
import type { SimNode, SimWorld } from './sim-node.js';

/** How long a draining node keeps serving (750 ms in production, scaled like the sim's other times). */
const DRAIN_MS = 50;

export interface NemesisOptions {
  readonly intervalMsMin: number;
  readonly intervalMsMax: number;
  readonly faultMsMin: number;
  readonly faultMsMax: number;
  readonly downMax: number;
  /** Share of injections that try a membership or clock fault first. */
  readonly membershipRate: number;
  /** Ring members never fall below this. */
  readonly ringMin: number;
  /** Ring members never exceed this (joins stop). */
  readonly ringMax: number;
  /** Membership faults (join, leave, remove, wipes) per seed. */
  readonly membershipMax: number;
  /** Clock faults per seed. */
  readonly clockMax: number;
  /** Disks lost per seed (wipes and removals). */
  readonly destructiveMax: number;
  /** How long a departed member is remembered (`left`) before it is forgotten (leftRetainMs). */
  readonly forgetMs: number;
  /** The nodes' tombstone grace: clock steps are drawn within and beyond it. */
  readonly graceMs: number;
  /**
   * Share of restarts that run alone, unjoined, until the ring is told to them (restart), drawn
   * from a stream of their own so that with rate 0 a seed keeps the schedule it had before.
   */
  readonly restartAlone: { readonly rate: number; readonly random: () => number };
}

/** What the nemesis needs beyond the world: the ring, and a way to bring up a new node. */
export interface Cast {
  readonly ring: SimRing;
  /** A new node (a new id, an empty disk), not started; undefined when no more may be made. */
  spawn(): SimNode | undefined;
}

export class Nemesis {
  /** Faults injected, by kind. */
  readonly faults: Record<string, number> = {};
  private partitioned = false;
  /** Set by healAll: heals still scheduled for earlier faults do nothing. */
  private over = false;
  private membershipFaults = 0;
  private clockFaults = 0;
  private destructive = 0;
  /** When each departed member's node stopped for good (it may then be forgotten). */
  private readonly departedMs = new Map<string, number>();
  /** Wiped nodes waiting to come back as new members (done at once by healAll). */
  private readonly swaps = new Set<() => void>();
  /** A member removed this seed: the simulation may bring it back as a zombie after the heal. */
  removedNode: SimNode | undefined;

  constructor(
    private readonly world: SimWorld,
    /** The seed's usual network conditions, restored after a loss burst. */
    private readonly calm: NetworkOptions,
    private readonly options: NemesisOptions,
    private readonly cast: Cast,
  ) {}

  private get clock() {
    return this.world.clock;
  }

  private get network() {
    return this.world.network;
  }

  /** Nodes that are part of the cluster: not stopped for good, not removed. */
  private get active(): SimNode[] {
    return this.world.nodes.filter((node) => node.state !== 'stopped' && !node.removed && !node.zombie);
  }

  private get ring(): SimRing {
    return this.cast.ring;
  }

  private random(): number {
    return this.world.random();
  }

  private between(min: number, max: number): number {
    return min + this.random() * (max - min);
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length)];
  }

  private later(label: string, action: () => void): void {
    this.clock.at(this.between(this.options.faultMsMin, this.options.faultMsMax), label, () => this.over || action());
  }

  private count(kind: string, detail: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
    this.world.trace(`nemesis ${kind} ${detail}`);
  }

  /**
   * Starts a node's next life. Mostly it joins at once (a seed answers); sometimes, as when its
   * seeds are slow or down, it runs alone and unjoined, knowing only itself, until the ring's
   * sweep tells it the ring (membership.md "Joined"; the CAS bug of issue 17 lived there).
   */
  private restart(node: SimNode): void {
    if (node.state !== 'crashed' || node.removed) return;
    const alone = this.options.restartAlone;
    if (alone.rate > 0 && alone.random() < alone.rate) {
      node.start(undefined, true);
      this.ring.untold(node.id);
      this.count('restart-alone', `${node.id} (not joined until it learns the ring)`);
      return;
    }
    node.start();
    this.ring.tell(node);
  }

  /** Injects faults until `untilMs`. */
  start(untilMs: number): void {
    const next = () => {
      if (this.over || this.clock.nowMs >= untilMs) return;
      this.forgetDeparted();
      this.inject();
      this.clock.at(this.between(this.options.intervalMsMin, this.options.intervalMsMax), undefined, next);
    };
    this.clock.at(this.between(this.options.intervalMsMin, this.options.intervalMsMax), undefined, next);
  }

  private inject(): void {
    if (this.random() < this.options.membershipRate && this.injectMembershipOrClock()) return;
    const dice = this.random();
    const running = this.active.filter((node) => node.state === 'running');
    const down = this.active.length - running.length;
    const canDown = down < this.options.downMax;
    if (dice < 0.08 && down === 0 && running.length > 0) {
      this.zoneOutage(running);
    } else if (dice < 0.25 && canDown && running.length > 0) {
      this.crash(running);
    } else if (dice < 0.3 && canDown && running.length > 0) {
      this.drain(this.pick(running)!);
    } else if (dice < 0.33 && running.length > 0) {
      this.diskFails(this.pick(running)!);
    } else if (dice < 0.37 && running.length > 0) {
      // A stalled disk: the process answers probes, its replica work waits (sim-network.ts).
      // Longer than the replica deadline floor (200 ms), so coordinators must tell it from a
      // cut link, and well under the tombstone grace (1 s), as a stall of seconds is under the
      // production grace of hours: a write held up past the grace is the resurrection the
      // grace exists to bound, not a fault a store must survive.
      const victim = this.pick(running)!;
      const delayMs = Math.round(this.between(250, 600));
      this.count('slow-store', `${victim.id} ${delayMs} ms`);
      this.network.slowStore(victim.id, delayMs);
      this.later(`store of ${victim.id} fast again`, () => this.network.slowStore(victim.id, 0));
    } else if (dice < 0.5 && canDown && running.length > 0) {
      const victim = this.pick(running)!;
      this.count('pause', victim.id);
      victim.pause();
      this.later(`resume ${victim.id}`, () => victim.resume());
    } else if (dice < 0.85 && !this.partitioned) {
      this.partition(this.active);
    } else {
      this.count('loss', '');
      this.network.options = { ...this.network.options, lossRate: Math.max(this.network.options.lossRate, 0.2) };
      this.later('loss ends', () => (this.network.options = { ...this.network.options, lossRate: this.calm.lossRate }));
    }
  }

  /**
   * A drain (node.drain, Swim.depart): every running peer hears the node's own dead notice at
   * once (sent directly to each), the node keeps serving for a drain period, then stops (as a
   * crash: harsher than a graceful close) and restarts later.
   */
  private drain(victim: SimNode): void {
    this.count('drain', victim.id);
    victim.draining = true;
    for (const node of this.active) if (node !== victim && node.state === 'running') node.parts?.staticMembership?.setStatus(victim.id, 'dead');
    this.clock.at(DRAIN_MS, `drained ${victim.id}`, () => {
      if (this.over || !victim.draining) return;
      victim.crash();
      this.later(`restart ${victim.id}`, () => this.restart(victim));
    });
  }

  /** A crash and a later restart; half the time, of a node in the middle of a handoff if any. */
  private crash(running: SimNode[]): void {
    const handingOff = running.filter((node) => node.parts !== undefined && node.parts.transfer.pending() > 0);
    const during = handingOff.length > 0 && this.random() < 0.5;
    const victim = during ? this.pick(handingOff)! : this.pick(running)!;
    // Half the time before the disk committed this turn's queued writes: what kill -9 between a
    // coordinator's send and its own commit leaves (storage/store-life.ts).
    const beforeCommit = this.random() < 0.5;
    this.count(during ? 'crash-during-handoff' : beforeCommit ? 'crash-before-commit' : 'crash', victim.id);
    victim.crash(beforeCommit);
    this.later(`restart ${victim.id}`, () => this.restart(victim));
  }

  /**
   * A failing disk: every commit of the node throws (an I/O error, a full disk) for a while; the
   * process goes on serving. Its coordinated writes still go to peers (issue 12's parallel local
   * commit), so the store must take a new epoch (storage/store-life.ts) or its next dot claims a
   * lost one.
   */
  private diskFails(victim: SimNode): void {
    this.count('disk-fails', victim.id);
    victim.diskFailing = true;
    this.later(`disk of ${victim.id} works again`, () => (victim.diskFailing = false));
  }

  /**
   * A whole zone goes down at once (a rack loses power, an availability zone fails): every
   * running node of one zone crashes, past downMax if the zone is that big, and all restart
   * later. With one replica per zone, every key keeps N - 1 replicas up.
   */
  private zoneOutage(running: SimNode[]): void {
    const zone = this.pick(running)!.config.zone;
    const victims = running.filter((node) => node.config.zone === zone);
    this.count('zone-outage', `${zone}: ${victims.map((node) => node.id).join(',')}`);
    for (const victim of victims) victim.crash();
    this.later(`zone ${zone} back`, () => {
      for (const victim of victims) this.restart(victim);
    });
  }

  /** Tries one membership or clock fault; false if none is possible now (budgets, ring size). */
  private injectMembershipOrClock(): boolean {
    const dice = this.random();
    const members = this.ring.members();
    const running = this.active.filter((node) => node.state === 'running');
    const down = this.active.length - running.length;
    const membershipLeft = this.membershipFaults < this.options.membershipMax;
    const destructiveLeft = this.destructive < this.options.destructiveMax;
    const canShrink = members.length > this.options.ringMin;
    const steady = running.filter((node) => this.ring.isMember(node.id) && !node.leaving);
    if (dice < 0.2) {
      return membershipLeft && members.length < this.options.ringMax && this.join();
    } else if (dice < 0.35) {
      return membershipLeft && canShrink && steady.length > 0 && this.leave(this.pick(steady)!);
    } else if (dice < 0.45) {
      if (!membershipLeft || !destructiveLeft || !canShrink) return false;
      const crashed = this.active.filter((node) => node.state === 'crashed' && this.ring.isMember(node.id));
      if (crashed.length > 0) return this.remove(this.pick(crashed)!);
      // None is down: one dies now and is removed once the operator notices.
      if (down >= this.options.downMax || steady.length === 0) return false;
      const victim = this.pick(steady)!;
      this.count('crash', `${victim.id} (to be removed)`);
      victim.crash();
      this.membershipFaults++;
      this.destructive++;
      this.later(`operator removes ${victim.id}`, () => {
        this.membershipFaults--;
        this.destructive--;
        // Leaves may have shrunk the ring meanwhile: never remove below the minimum (it then
        // stays a crash, healed like any other).
        if (victim.state === 'crashed' && !victim.removed && this.ring.members().length > this.options.ringMin) this.remove(victim);
      });
      return true;
    } else if (dice < 0.55) {
      return membershipLeft && destructiveLeft && down < this.options.downMax && steady.length > 0 && this.wipe(this.pick(steady)!, false);
    } else if (dice < 0.6) {
      return membershipLeft && destructiveLeft && canShrink && down < this.options.downMax && steady.length > 0 && this.wipe(this.pick(steady)!, true);
    } else if (dice < 0.9) {
      const up = this.active.filter((node) => node.up);
      return this.clockFaults < this.options.clockMax && up.length > 0 && this.stepClock(this.pick(up)!);
    }
    return this.clockFaults < this.options.clockMax && down < this.options.downMax && steady.length > 0 && this.stepBackAcrossRestart(this.pick(steady)!);
  }

  /** A new node enters the ring: it knows the ring at once, the others learn it by and by. */
  private join(): boolean {
    const node = this.cast.spawn();
    if (node === undefined) return false;
    this.membershipFaults++;
    this.count('join', node.id);
    this.ring.join(node.id, node.config.zone);
    node.start();
    this.ring.tell(node);
    return true;
  }

  /**
   * A graceful leave (`ringkv leave`): the ring marks the node left, the node knows at once,
   * hands off what it holds and stops (SimNode.leave). Sometimes a partition cuts it off from
   * one peer as it leaves.
   */
  private leave(node: SimNode): boolean {
    this.membershipFaults++;
    this.ring.depart(node.id, 'leave');
    this.ring.tell(node);
    node.leave();
    const peers = this.active.filter((other) => other !== node);
    if (!this.partitioned && peers.length > 0 && this.random() < 0.4) {
      const peer = this.pick(peers)!;
      this.count('leave-partitioned', `${node.id} (cut off from ${peer.id})`);
      this.cutOff([node], [peer], false);
    } else {
      this.count('leave', node.id);
    }
    return true;
  }

  /** An operator removes a crashed member: it never restarts (ClusterSim may raise it as a zombie). */
  private remove(node: SimNode): boolean {
    this.membershipFaults++;
    this.destructive++;
    this.count('remove', node.id);
    node.removed = true;
    this.ring.depart(node.id, 'remove');
    this.departedMs.set(node.id, this.clock.nowMs);
    this.removedNode = node;
    return true;
  }

  /**
   * The node crashes and its data dir is lost. It comes back later either as the same id on
   * the empty dir (a new epoch), or as a new member (a new id joins; the old one is removed).
   */
  private wipe(node: SimNode, asNewMember: boolean): boolean {
    const fresh = asNewMember ? this.cast.spawn() : undefined;
    if (asNewMember && fresh === undefined) return false;
    this.membershipFaults++;
    this.destructive++;
    this.count(asNewMember ? 'wipe-rejoin-new-id' : 'wipe-restart', asNewMember ? `${node.id} -> ${fresh!.id}` : node.id);
    node.crash();
    node.wipe();
    if (!asNewMember) {
      this.later(`restart ${node.id} on an empty data dir`, () => this.restart(node));
      return true;
    }
    const swap = () => {
      this.swaps.delete(swap);
      node.removed = true;
      this.ring.depart(node.id, 'remove');
      this.departedMs.set(node.id, this.clock.nowMs);
      this.ring.join(fresh!.id, fresh!.config.zone);
      fresh!.start();
      this.ring.tell(fresh!);
    };
    this.swaps.add(swap);
    this.later(`${node.id} removed; ${fresh!.id} joins on its machine`, swap);
    return true;
  }

  /** A step of a node's wall clock, within or beyond the tombstone grace, forwards or back. */
  private drawStep(): { stepMs: number; detail: string } {
    const beyond = this.random() < 0.5;
    const magnitude = this.options.graceMs * (beyond ? this.between(1.2, 3) : this.between(0.1, 0.9));
    const stepMs = Math.round(this.random() < 0.5 ? magnitude : -magnitude);
    return { stepMs, detail: `${stepMs > 0 ? '+' : ''}${stepMs} ms (${beyond ? 'beyond' : 'within'} the grace)` };
  }

  /** Steps a node's clock; corrected after a while half the time, else only at the heal. */
  private stepClock(node: SimNode): boolean {
    this.clockFaults++;
    const { stepMs, detail } = this.drawStep();
    this.count(stepMs > 0 ? 'clock-forward' : 'clock-back', `${node.id} ${detail}`);
    node.clockOffsetMs += stepMs;
    if (this.random() < 0.5) this.later(`clock of ${node.id} corrected`, () => (node.clockOffsetMs -= stepMs));
    return true;
  }

  /** Crash, the clock steps back while the node is down, restart: it stays behind until the heal. */
  private stepBackAcrossRestart(node: SimNode): boolean {
    this.clockFaults++;
    const { stepMs, detail } = this.drawStep();
    const back = -Math.abs(stepMs);
    this.count('clock-back-restart', `${node.id} ${detail.replace(/^[+-]?\d+/, String(back))}`);
    node.crash();
    node.clockOffsetMs += back;
    this.later(`restart ${node.id}`, () => this.restart(node));
    return true;
  }

  /** Departed members whose node is gone for good are forgotten after `forgetMs`. */
  private forgetDeparted(): void {
    for (const node of this.world.nodes) {
      if (node.state === 'stopped' && this.ring.departed().includes(node.id) && !this.departedMs.has(node.id)) this.departedMs.set(node.id, this.clock.nowMs);
    }
    const old = [...this.departedMs].filter(([id, atMs]) => this.ring.departed().includes(id) && this.clock.nowMs - atMs >= this.options.forgetMs).map(([id]) => id);
    this.ring.forget(old);
  }

  /** Cuts `side` off from `rest`: both ways, or one way only. */
  private cutOff(side: readonly SimNode[], rest: readonly SimNode[], oneWay: boolean): void {
    for (const a of side) {
      for (const b of rest) {
        this.network.cut(a.id, b.id);
        if (!oneWay) this.network.cut(b.id, a.id);
      }
    }
    this.partitioned = true;
    this.later('partition heals', () => {
      this.network.healAll();
      this.partitioned = false;
    });
  }

  /** Cuts one or two nodes off from the rest: both ways, or (a third of the time) one way. */
  private partition(nodes: readonly SimNode[]): void {
    const shuffled = nodes.map((node) => ({ node, order: this.random() })).sort((a, b) => a.order - b.order).map((x) => x.node);
    const side = shuffled.slice(0, 1 + Math.floor(this.random() * 2));
    const rest = shuffled.slice(side.length);
    const oneWay = this.random() < 0.33;
    this.count(oneWay ? 'one-way-partition' : 'partition', `${side.map((n) => n.id).join(',')} | ${rest.map((n) => n.id).join(',')}`);
    this.cutOff(side, rest, oneWay);
  }

  /**
   * Ends every fault: restarts crashed nodes (not removed ones), resumes paused ones, corrects
   * every clock, heals the network, calm loss. Leaves in progress go on (ClusterSim waits).
   */
  healAll(): void {
    this.over = true;
    for (const swap of [...this.swaps]) swap();
    for (const node of this.world.nodes) {
      node.clockOffsetMs = 0;
      node.diskFailing = false;
      if (node.zombie && node.up) node.stop();
      else if (node.state === 'crashed') this.restart(node);
      else node.resume();
    }
    this.network.healAll();
    this.partitioned = false;
    this.network.options = { ...this.calm, lossRate: 0, duplicateRate: 0 };
    this.world.trace('nemesis heal all');
  }

  /** The departed members not yet forgotten (ClusterSim forgets them all after the heal). */
  departed(): string[] {
    return this.ring.departed();
  }
}
