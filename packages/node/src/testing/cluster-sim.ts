/**
 * The seeded, deterministic whole-cluster simulation (issue 6; tigerbeetle's VOPR, FoundationDB's
 * simulation): N fully wired nodes (the real coordinator, replica service, hinted handoff,
 * anti-entropy, ownership handoff, reaper and HTTP app) on their in-memory twins, a simulated
 * network with seeded delay, loss, duplication, reordering and one- or two-way partitions, a
 * manual clock and one event heap, all driven by ONE seeded PRNG, so a seed replays its run
 * exactly (same events, same order, same trace hash).
 *
 * A run: the set workload (sim-workload.ts) runs for `workloadMs` while the nemesis crashes,
 * restarts, pauses and cuts off nodes, changes the ring (joins, leaves, removals, restarts on
 * wiped disks), steps clocks, and the failure detector flips member statuses; then every fault
 * is healed, every node told the ring and that all are alive, leaves finish, departed members
 * are forgotten, hinted handoff and ownership handoff run until nothing is left, anti-entropy
 * runs between every pair of members, and a quiet phase deletes the tombstone key and one set
 * key. Some seeds then let the grace pass so the reaper reaps those deletes, and, when a member
 * was removed, bring it back as a zombie with its old disk before the final phase. Finally
 * every key is read at R = N (read repair) and its replicas collected. The history and that
 * final state are what the checker (test/fault/checker.ts) judges; this module only produces
 * them.
 *
 * Left out (see docs/testing.md): torn writes (a crash keeps every commit), SWIM itself (its
 * own simulator is swim-sim.ts; ring changes spread here by a seeded "learn" step), and the
 * HTTP layer between nodes (the transport twin stands in).
 */
import { createHash } from 'node:crypto';
import type { VersionedObject } from '../core/versioned.js';
import { memberConfig } from './memory-cluster.js';
import { seededRandom } from './rng.js';
import { SimClient, type SetRead } from './sim-client.js';
import { SimClock, type Owner } from './sim-clock.js';
import { FailureDetector } from './sim-detector.js';
import { SimRing } from './sim-membership.js';
import { Nemesis } from './sim-nemesis.js';
import { SimNetwork, type NetworkOptions } from './sim-network.js';
import { SimNode } from './sim-node.js';
import { SetWorkload, type SimHistoryEvent } from './sim-workload.js';
import type { SimExtraWorkload, SimWorkloadFactory } from './sim-workload-hook.js';
import { CasSimPart, type CasSimOutcome } from './sim-cas-part.js';

export interface ClusterSimOptions {
  readonly seed: number;
  readonly nodes?: number;
  /** Simulated milliseconds of workload (and faults). */
  readonly workloadMs?: number;
  readonly keys?: number;
  readonly clients?: number;
  /** Trace lines kept for the report. */
  readonly traceLines?: number;
  /** Workloads run beside the set workload (sim-workload-hook.ts; the data types: sim-dt-workload.ts). */
  readonly workloads?: readonly SimWorkloadFactory[];
  /** Also run the compare-and-set workload (sim-cas-workload.ts) on these keys. */
  readonly cas?: { readonly keys: number; readonly clients: number };
  /** Share of restarts that run alone and unjoined for a while (sim-nemesis.ts restart); RESTART_ALONE_RATE by default, 0 replays older seeds' schedules. */
  readonly restartAloneRate?: number;
}

/** Share of restarts whose node runs alone, not joined, until the ring reaches it (membership.md "Joined"). */
export const RESTART_ALONE_RATE = 0.3;

export interface SimFinalKey {
  readonly elements: readonly string[];
  readonly replicas: readonly string[];
}

export interface ClusterSimResult {
  readonly seed: number;
  readonly history: readonly SimHistoryEvent[];
  readonly final: ReadonlyMap<string, SimFinalKey>;
  readonly siblingsMax: number;
  /** Problems the checker does not judge: unexpected 4xx answers, hints never delivered, failed final reads. */
  readonly problems: readonly string[];
  readonly stats: {
    /** Keys the reapers dropped (tombstones past the grace), all nodes. */
    readonly reaped: number;
    /** Ring members at the end, and every node id that ever ran. */
    readonly ring: readonly string[];
    readonly nodesEver: number;
    readonly operations: number;
    readonly events: number;
    readonly simulatedMs: number;
    readonly faults: Readonly<Record<string, number>>;
    readonly messages: { readonly sent: number; readonly lost: number; readonly duplicated: number };
    readonly detector: { readonly flips: number; readonly falseDeaths: number };
  };
  /** The last `traceLines` events, oldest first, and a hash of the whole trace (replay check). */
  readonly trace: readonly string[];
  readonly traceHash: string;
  /** The compare-and-set workload's history and figures, when it ran (options.cas). */
  readonly cas?: CasSimOutcome;
}

const START_MS = 1_700_000_000_000;
/** timeout_ms of the workload's requests: short, so a request stuck behind a fault ends soon. */
const REQUEST_TIMEOUT_MS = 100;
const TOMB = 'tomb';
/**
 * Node settings scaled to the short runs: hint and handoff rounds every 50 ms, 50 ms fail
 * grace, 8 tokens a node (cheap ring builds), anti-entropy every 200 ms, the reaper every
 * 100 ms with the smallest grace the config allows (1 s, above the simulated auth window).
 */
const SIM_CONFIG = { n: 3, hintDeliveryIntervalMs: 50, transferIntervalMs: 50, quorumFailGraceMs: 50, replicaTimeoutMs: 200, tokensPerNode: 8, antiEntropyIntervalMs: 200, tombstoneGraceMs: 1_000, reapIntervalMs: 100 };
/** Every node has a zone (placement spreads each key's 3 replicas over them); a zone outage is one of the faults. */
const SIM_ZONES = ['zone-a', 'zone-b', 'zone-c'];
/** The internal routes' clock-skew window, scaled (30 s in production, below the 60 s minimum grace). */
const AUTH_SKEW_MS = 500;
/** Node objects a seed may create (5 at the start, joins and new-member restarts after). */
const NODES_MAX = 8;
const WORKLOAD = { deleteRate: 0.05, blindRate: 0.1, thinkMsMax: 10, requestTimeoutMs: REQUEST_TIMEOUT_MS, r: 2, w: 2 };

/** A replica's versions of a key in a comparable form: dot, then value or tombstone. */
function replicaState(object: VersionedObject | undefined): string {
  return (object?.siblings ?? []).map((s) => `${s.dot.id}:${s.dot.counter}=${s.deleted ? '<deleted>' : Buffer.from(s.value).toString()}`).join(' ');
}

class Trace {
  private readonly lines: string[] = [];
  private readonly hash = createHash('sha256');

  constructor(private readonly keep: number) {}

  add(atMs: number, line: string): void {
    const text = `${(atMs - START_MS).toFixed(2)} ${line}`;
    this.hash.update(text).update('\n');
    this.lines.push(text);
    if (this.lines.length > this.keep * 2) this.lines.splice(0, this.lines.length - this.keep);
  }

  result(): { trace: string[]; traceHash: string } {
    return { trace: this.keep === 0 ? [] : this.lines.slice(-this.keep), traceHash: this.hash.digest('hex').slice(0, 16) };
  }
}

/** Network conditions drawn for one seed. */
function drawNetwork(random: () => number): NetworkOptions {
  return {
    lossRate: random() * 0.05,
    duplicateRate: random() * 0.05,
    minDelayMs: 0.1,
    maxDelayMs: 0.5 + random() * 5,
    peerTimeoutMs: 300,
    authSkewMs: AUTH_SKEW_MS,
  };
}

/** One run; `run()` once. Fields are public for the tests' inspection after the run. */
export class ClusterSim {
  readonly random: () => number;
  readonly clock: SimClock;
  readonly network: SimNetwork;
  readonly nodes: SimNode[] = [];
  readonly ring: SimRing;
  private readonly byId = new Map<string, SimNode>();
  private readonly trace: Trace;
  private readonly calm: NetworkOptions;
  private readonly client: SimClient;
  private readonly workload: SetWorkload;
  private readonly detector: FailureDetector;
  private readonly nemesis: Nemesis;
  private readonly keys: string[];
  private readonly problems: string[] = [];
  private readonly reapPhase: boolean;
  private readonly zombieReturns: boolean;
  private readonly extra: SimExtraWorkload[];
  private readonly cas: CasSimPart | undefined;

  constructor(private readonly options: ClusterSimOptions) {
    this.random = seededRandom(options.seed);
    this.trace = new Trace(options.traceLines ?? 40);
    this.clock = new SimClock(START_MS, (owner: Owner) => this.byId.get(owner.node)!.fate(owner), (atMs, line) => this.trace.add(atMs, line));
    this.calm = drawNetwork(this.random);
    const wallOf = (id: string) => this.byId.get(id)!.nowMs();
    this.network = new SimNetwork(this.clock, this.random, { ...this.calm, lossRate: 0, duplicateRate: 0 }, (id) => this.byId.get(id)!.owner, wallOf);
    const note = (line: string) => this.trace.add(this.clock.nowMs, line);
    const world = { clock: this.clock, random: this.random, nodes: this.nodes, network: this.network, trace: note };
    this.ring = new SimRing(world, { sweepMs: 10, learnRate: 0.1 });
    for (let i = 0; i < (options.nodes ?? 5); i++) this.spawn();
    const delayMs = () => this.calm.minDelayMs + this.random() * (this.calm.maxDelayMs - this.calm.minDelayMs);
    this.client = new SimClient(this.clock, delayMs, 50);
    this.keys = Array.from({ length: options.keys ?? 4 }, (_, i) => `set-${i}`);
    const up = () => this.nodes.filter((node) => node.up && !node.zombie);
    this.workload = new SetWorkload(this.clock, this.client, this.random, up, { ...WORKLOAD, keys: this.keys, clients: options.clients ?? 4 }, note);
    const detector = { sweepMs: 10, detectRate: 0.2, falseDeathRate: 0.0005, gossipSkewMs: 10 * AUTH_SKEW_MS };
    this.detector = new FailureDetector(world, detector);
    const nemesis = {
      intervalMsMin: 20,
      intervalMsMax: 80,
      faultMsMin: 20,
      faultMsMax: 150,
      downMax: 2,
      membershipRate: 0.35,
      ringMin: 3,
      ringMax: 6,
      membershipMax: 3,
      clockMax: 2,
      destructiveMax: 1,
      forgetMs: 50,
      graceMs: SIM_CONFIG.tombstoneGraceMs,
      restartAlone: { rate: options.restartAloneRate ?? RESTART_ALONE_RATE, random: seededRandom(options.seed * 7919 + 17) },
    };
    this.nemesis = new Nemesis(world, this.calm, nemesis, { ring: this.ring, spawn: () => this.spawn() });
    // Drawn up front so the rest of the run does not shift with them.
    this.reapPhase = this.random() < 0.3;
    this.zombieReturns = this.random() < 0.7;
    const env = { clock: this.clock, client: this.client, random: this.random, reachable: up, anchor: () => this.anchor, members: () => this.members(), n: this.n, trace: note };
    this.extra = (options.workloads ?? []).map((make) => make(env));
    this.cas = options.cas === undefined ? undefined : new CasSimPart(this.clock, this.client, this.random, up, options.cas, note);
  }

  /** A new node with the next id and an empty disk (not started); undefined past NODES_MAX. */
  private spawn(): SimNode | undefined {
    if (this.nodes.length >= NODES_MAX) return undefined;
    const id = `node${this.nodes.length + 1}`;
    // Zones round-robin: node1, node4, node7 in zone-a and so on (5 nodes: zones of 2, 2, 1).
    const zone = SIM_ZONES[this.nodes.length % SIM_ZONES.length]!;
    const peers = this.ring.view().filter((e) => !e.left).map((e) => ({ id: e.id, address: SimNetwork.address(e.id), zone: e.zone }));
    const node = new SimNode(memberConfig(id, [...peers, { id, address: SimNetwork.address(id), zone }], SIM_CONFIG), this.clock, this.network, this.random);
    this.nodes.push(node);
    this.byId.set(id, node);
    return node;
  }

  /** A ring member that is up: where the final phase's requests go. */
  private get anchor(): SimNode {
    return this.nodes.find((node) => node.up && !node.zombie && this.ring.isMember(node.id))!;
  }

  private get n(): number {
    return SIM_CONFIG.n;
  }

  /** Runs the clock until `work` settles (or `maxMs` pass); its value, if it settled. */
  private async drive<T>(work: Promise<T>, maxMs: number): Promise<{ value: T } | undefined> {
    let settled: { value: T } | undefined;
    void work.then((value) => (settled = { value }));
    await this.clock.runUntil(() => settled !== undefined, maxMs);
    return settled;
  }

  async run(): Promise<ClusterSimResult> {
    for (const node of this.nodes) this.ring.join(node.id, node.config.zone);
    for (const node of this.nodes) {
      node.start();
      this.ring.tell(node);
    }
    // Before any fault: the tombstone key, written to all N, to be deleted after the heal.
    await this.drive(this.workload.add(this.anchor, TOMB, [`${TOMB}-seed`], undefined, `${TOMB}-seed`, this.n), 5_000);
    this.network.options = this.calm;
    const untilMs = this.clock.nowMs + (this.options.workloadMs ?? 300);
    this.detector.start();
    this.ring.start();
    this.nemesis.start(untilMs);
    const parallel = [...this.extra.map((w) => w.run(untilMs)), ...(this.cas === undefined ? [] : [this.cas.run(untilMs)])];
    const work = parallel.length === 0 ? this.workload.run(untilMs) : Promise.all([this.workload.run(untilMs), ...parallel]).then(() => undefined);
    if ((await this.drive(work, 60_000)) === undefined) this.problems.push('the workload did not finish');
    await this.heal();
    this.trace.add(this.clock.nowMs, 'quiet phase: delete the tombstone key and one set key');
    for (const key of [TOMB, this.keys[0]!]) {
      const [read] = await this.read([key]);
      if (read!.status === 0 || read!.status >= 500) this.problems.push(`quiet-phase read of ${key} answered ${read!.status}`);
      else await this.drive(this.workload.remove(this.anchor, key, read!.elements, read!.context), 5_000);
    }
    const zombie = this.nemesis.removedNode !== undefined && this.zombieReturns ? this.nemesis.removedNode : undefined;
    if (this.reapPhase || zombie !== undefined) await this.reap();
    if (zombie !== undefined) await this.raiseZombie(zombie);
    if (this.cas !== undefined) await this.drive(this.cas.finalReads(() => this.anchor), 30_000);
    this.trace.add(this.clock.nowMs, 'final reads at R = N');
    const final = await this.finalState([...this.keys, TOMB]);
    this.problems.push(...this.workload.unexpected);
    for (const w of this.extra) {
      if ((await this.drive(w.finish(), 60_000)) === undefined) this.problems.push('a workload\'s final reads did not finish');
      this.problems.push(...w.problems);
    }
    return this.result(final);
  }

  /** Members of the ring that are up (the final phase's nodes). */
  private members(): SimNode[] {
    return this.nodes.filter((node) => node.up && !node.zombie && this.ring.isMember(node.id));
  }

  /**
   * Ends every fault, tells every node the ring and that all its members are alive, lets
   * leaves finish, forgets departed members, lets hinted handoff and ownership handoff empty
   * every hint store and hand off every key, then runs one anti-entropy exchange between every
   * pair of members (they also run every 200 ms throughout, faults included). A node that
   * finished leaving while it still held hints has dropped writes: reported.
   */
  private async heal(): Promise<void> {
    this.nemesis.healAll();
    this.ring.converge();
    this.detector.stopAndMarkAllAlive();
    const leaving = () => this.nodes.filter((node) => node.leaving && node.up);
    if (!(await this.clock.runUntil(() => leaving().length === 0, 10_000))) this.problems.push(`leave of ${leaving().map((n) => n.id).join(',')} never finished`);
    this.ring.forget(this.ring.departed());
    this.ring.converge();
    for (const node of this.nodes) {
      const held = node.state === 'stopped' && !node.removed ? node.disk.hints.count() : 0;
      if (held > 0) this.problems.push(`${node.id} finished its leave holding ${held} undelivered hint(s)`);
    }
    await this.settle();
    const members = this.members();
    for (const node of members) {
      for (const peer of members) {
        if (peer === node) continue;
        const report = await this.drive(node.parts!.antiEntropy.exchange(peer.id), 10_000);
        if (report === undefined || report.value.error !== undefined) this.problems.push(`anti-entropy ${node.id}->${peer.id}: ${report?.value.error ?? 'did not finish'}`);
        else this.trace.add(this.clock.nowMs, `anti-entropy ${node.id}->${peer.id}: ${report.value.keysIn} in, ${report.value.keysOut} out`);
      }
    }
  }

  /** Runs until no running node holds a hint or a key it no longer owns (reported if never). */
  private async settle(): Promise<void> {
    const hints = () => this.members().reduce((sum, node) => sum + node.disk.hints.count(), 0);
    if (!(await this.clock.runUntil(() => hints() === 0, 10_000))) this.problems.push(`${hints()} hints never delivered`);
    const pending = () => this.members().reduce((sum, node) => sum + node.parts!.transfer.pending(), 0);
    if (!(await this.clock.runUntil(() => pending() === 0, 10_000))) this.problems.push(`${pending()} keys never handed off to their owners`);
  }

  /** Lets the grace pass with every member up, so the reapers drop the quiet phase's deletes. */
  private async reap(): Promise<void> {
    this.trace.add(this.clock.nowMs, 'reap phase: the tombstone grace passes');
    await this.clock.run(SIM_CONFIG.tombstoneGraceMs + 3 * SIM_CONFIG.reapIntervalMs + 50);
  }

  /**
   * The removed member starts again with its old disk and the member list it had (a zombie:
   * issue 19 point 5). Its anti-entropy and hint loops reach the others, which do not list it.
   * After a while it is put down again and the cluster settles before the final reads.
   */
  private async raiseZombie(node: SimNode): Promise<void> {
    this.nemesis.faults.zombie = (this.nemesis.faults.zombie ?? 0) + 1;
    this.trace.add(this.clock.nowMs, `nemesis zombie ${node.id} comes back with its old disk`);
    node.zombie = true;
    node.state = 'crashed';
    node.start(node.lastView);
    await this.clock.run(2 * SIM_CONFIG.antiEntropyIntervalMs + 50);
    node.stop();
    this.trace.add(this.clock.nowMs, `zombie ${node.id} put down`);
    await this.settle();
  }

  /**
   * Reads `keys` at R = N on the healed cluster, all at once, driven to their end. A read can
   * still time out behind batches sent before the heal (they wait for their peer timeout), so a
   * failed read is tried again, a few times.
   */
  private async read(keys: readonly string[]): Promise<SetRead[]> {
    const readOne = async (key: string): Promise<SetRead> => {
      let read: SetRead | undefined;
      for (let attempt = 0; attempt < 5 && !(read?.status === 200 || read?.status === 300 || read?.status === 404); attempt++) {
        read = await this.client.readSet(this.anchor, key, this.n, 1_000);
      }
      return read!;
    };
    const reads = await this.drive(Promise.all(keys.map(readOne)), 30_000);
    return reads?.value ?? keys.map(() => ({ status: 0, context: undefined, elements: [], siblings: 0 }));
  }

  /**
   * Reads every key at R = N (read repair), lets the repairs land, collects each key's
   * replicas, and reads every key once more for its final elements.
   */
  private async finalState(keys: readonly string[]): Promise<Map<string, SimFinalKey>> {
    await this.read(keys);
    await this.clock.run(100);
    const replicas = keys.map((key) => this.anchor.parts!.coordinator.preferenceList(key).map((id) => replicaState(this.byId.get(id)!.disk.get(key))));
    const reads = await this.read(keys);
    const final = new Map<string, SimFinalKey>();
    keys.forEach((key, i) => {
      const read = reads[i]!;
      if (read.status !== 200 && read.status !== 300 && read.status !== 404) this.problems.push(`final read of ${key} answered ${read.status}`);
      final.set(key, { elements: read.elements, replicas: replicas[i]! });
    });
    return final;
  }

  private result(final: Map<string, SimFinalKey>): ClusterSimResult {
    return {
      seed: this.options.seed,
      history: this.workload.history,
      final,
      siblingsMax: this.nodes[0]!.config.siblingsMax,
      problems: this.problems,
      stats: {
        operations: this.workload.operations,
        events: this.clock.eventsRun,
        simulatedMs: this.clock.nowMs - START_MS,
        faults: { ...this.nemesis.faults, falseDeaths: this.detector.counts.falseDeaths },
        reaped: this.nodes.reduce((sum, node) => sum + (node.parts?.reaper.status().reaped ?? 0), 0),
        ring: this.ring.members(),
        nodesEver: this.nodes.length,
        messages: { ...this.network.counts },
        detector: { ...this.detector.counts },
      },
      ...this.trace.result(),
      ...(this.cas === undefined ? {} : { cas: this.cas.outcome() }),
    };
  }
}

/** Runs one seed. */
export function runClusterSim(options: ClusterSimOptions): Promise<ClusterSimResult> {
  return new ClusterSim(options).run();
}
