/**
 * A seeded, deterministic simulation of the pure per-key Paxos core (packages/node/src/consensus)
 * in the style of the cluster simulation (test/sim/) and TigerBeetle's VOPR: 5 acceptors, 6
 * client proposers doing reads (which report the version), writes and compare-and-sets (by value
 * or by version) on 3 keys, and an operator that moves the keys' preference list mid-run from
 * [a1,a2,a3] to [a3,a4,a5] through a joint phase.
 * The network loses, duplicates, delays and reorders messages; acceptors crash and restart from
 * what they persisted; clients crash (their request's outcome becomes unknown) and restart with
 * their persisted ballot mark; clients learn each new layout late. The history is judged by the
 * linearizability checker. One PRNG per seed: a seed replays exactly.
 *
 * `bug` plants a known mistake so the test can show the simulation and the checker catch it.
 */
import { EventHeap } from '../../packages/node/dist/testing/event-heap.js';
import { seededRandom } from '../../packages/node/dist/testing/rng.js';
import { checkLinearizable, type Operation, type RegisterCall, type Verdict } from '../../packages/node/dist/testing/linearizability/index.js';
import {
  BallotClock, CasProposer, EMPTY_ACCEPTOR_RECORD, stepAcceptor, ZERO_BALLOT,
  type AcceptorRecord, type CasDecision, type Change, type Condition, type PaxosMessage, type ProposerConfig, type ProposerOutput,
} from '../../packages/node/dist/consensus/index.js';

export type PlantedBug =
  /** The acceptor keeps its promise in memory only: after a restart it has promised nothing. */
  | 'forget-promise-on-restart'
  /** The proposer never reads the accepted states in the promises: it proposes from empty. */
  | 'skip-read'
  /** Acceptors ignore the layout: a proposer that has not learned the move still wins rounds. */
  | 'no-layout-fence'
  /** The move goes straight to the new list: no joint phase, no barrier round. */
  | 'skip-joint-phase';

export interface PaxosSimOptions {
  readonly seed: number;
  readonly bug?: PlantedBug;
  /** Keep a readable event trace (for a failing seed's report). */
  readonly trace?: boolean;
}

export interface PaxosSimStats {
  operations: number;
  ok: number;
  unknown: number;
  failed: number;
  casApplied: number;
  casRefused: number;
  messagesLost: number;
  messagesDuplicated: number;
  acceptorCrashes: number;
  clientCrashes: number;
  staleLayoutRefusals: number;
  finalLayout: number;
}

export interface PaxosSimResult {
  readonly seed: number;
  readonly history: readonly Operation[];
  readonly verdict: Verdict;
  readonly stats: PaxosSimStats;
  /** A digest of everything that happened: equal for two runs of one seed. */
  readonly fingerprint: string;
  readonly trace: readonly string[];
}

const ACCEPTORS = ['a1', 'a2', 'a3', 'a4', 'a5'];
const OLD_LIST = ['a1', 'a2', 'a3'];
const NEW_LIST = ['a3', 'a4', 'a5'];
const CLIENTS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
const KEYS = ['k0', 'k1', 'k2'];
const OPS_PER_CLIENT = 10;
/** Simulated time after which no new operation starts and the run drains. */
const RUN_MS = 4_000;
/** Simulated time after which the run stops, whatever is still in flight (bounded runs). */
const HARD_STOP_MS = 12_000;
const TICK_MS = 10;
const PROPOSER_CONFIG: ProposerConfig = { phaseTimeoutMs: 120, backoffBaseMs: 5, backoffMaxMs: 80, attemptsMax: 12 };
const TRACE_MAX = 4_000;

type Event =
  | { readonly atMs: number; readonly kind: 'deliver'; readonly from: string; readonly to: string; readonly message: PaxosMessage<string> }
  | { readonly atMs: number; readonly kind: 'client-next' | 'client-tick' | 'crash' | 'restart'; readonly node: string }
  | { readonly atMs: number; readonly kind: 'learn-layout'; readonly node: string; readonly layout: number }
  | { readonly atMs: number; readonly kind: 'move' | 'operator-tick' };

interface Client {
  up: boolean;
  layout: number;
  ballotMark: number;
  clock: BallotClock;
  done: number;
  /** The last value and version this client saw per key: what its next CAS expects. */
  seen: Map<string, { value: string | null; version: number }>;
  op: { proposer: CasProposer<string>; index: number; call: RegisterCall } | undefined;
}

/** The core's condition for a call of the checker's register. */
function conditionOf(call: Exclude<RegisterCall, { kind: 'read' }>): Condition<string> {
  if (call.kind === 'write') return { kind: 'always' };
  if (call.kind === 'cas') return { kind: 'value', value: call.expected };
  return { kind: 'version', version: call.expected };
}

/** Runs one seed to the end and judges its history. */
export function runPaxosSim(options: PaxosSimOptions): PaxosSimResult {
  const sim = new PaxosSim(options);
  return sim.run();
}

class PaxosSim {
  private readonly random: () => number;
  private readonly events = new EventHeap<Event>();
  private readonly disks = new Map<string, Map<string, AcceptorRecord<string>>>();
  private readonly up = new Map<string, boolean>();
  private readonly clients = new Map<string, Client>();
  private readonly history: Array<{ op: Omit<Operation, 'outcome'>; outcome: Operation['outcome'] | undefined }> = [];
  private readonly trace: string[] = [];
  private readonly stats: PaxosSimStats = { operations: 0, ok: 0, unknown: 0, failed: 0, casApplied: 0, casRefused: 0, messagesLost: 0, messagesDuplicated: 0, acceptorCrashes: 0, clientCrashes: 0, staleLayoutRefusals: 0, finalLayout: 1 };
  private readonly lossRate: number;
  private readonly duplicateRate: number;
  private readonly slowRate: number;
  private readonly bounceRate: number;
  private nowMs = 0;
  /** Logical time of the history: one step per event, so no two history times are equal. */
  private seq = 0;
  private layout = 1;
  private readonly lists = new Map<number, string[][]>([[1, [OLD_LIST]]]);
  private operator: { proposer: CasProposer<string>; clock: BallotClock } | undefined;
  private digest = 0x811c9dc5;
  private opCounter = 0;

  constructor(private readonly options: PaxosSimOptions) {
    this.random = seededRandom(options.seed);
    this.lossRate = this.random() * 0.15;
    this.duplicateRate = this.random() * 0.1;
    this.slowRate = this.random() * 0.3;
    this.bounceRate = this.random() < 0.5 ? this.random() * 0.1 : 0;
    for (const node of ACCEPTORS) {
      this.disks.set(node, new Map());
      this.up.set(node, true);
    }
    for (const name of CLIENTS) {
      this.clients.set(name, { up: true, layout: 1, ballotMark: 0, clock: new BallotClock(name, 0), done: 0, seen: new Map(), op: undefined });
      this.events.push({ atMs: this.random() * 20, kind: 'client-next', node: name });
    }
    this.scheduleFaults();
    this.events.push({ atMs: 300 + this.random() * 1_200, kind: 'move' });
  }

  run(): PaxosSimResult {
    for (let event = this.events.pop(); event !== undefined && event.atMs <= HARD_STOP_MS; event = this.events.pop()) {
      this.nowMs = event.atMs;
      this.seq++;
      this.handle(event);
    }
    const history: Operation[] = this.history.map(({ op, outcome }) => ({ ...op, outcome: outcome ?? { status: 'unknown' } }));
    for (const op of history) {
      const status = op.outcome.status;
      if (status === 'ok') this.stats.ok++;
      else if (status === 'unknown') this.stats.unknown++;
      else this.stats.failed++;
    }
    this.stats.finalLayout = this.layout;
    const verdict = checkLinearizable(history);
    return { seed: this.options.seed, history, verdict, stats: this.stats, fingerprint: `${(this.digest >>> 0).toString(16)}:${this.seq}`, trace: this.trace };
  }

  private scheduleFaults(): void {
    // Mostly short outages (a restart in the middle of a round is where a forgotten promise
    // bites), some long ones (a replica gone for several rounds).
    const crashes = Math.floor(this.random() * 12);
    for (let i = 0; i < crashes; i++) {
      const node = ACCEPTORS[Math.floor(this.random() * ACCEPTORS.length)]!;
      const atMs = this.random() * RUN_MS;
      this.events.push({ atMs, kind: 'crash', node });
      this.events.push({ atMs: atMs + (this.random() < 0.7 ? 1 + this.random() * 30 : 50 + this.random() * 400), kind: 'restart', node });
    }
    const clientCrashes = Math.floor(this.random() * 3);
    for (let i = 0; i < clientCrashes; i++) {
      const node = CLIENTS[Math.floor(this.random() * CLIENTS.length)]!;
      const atMs = this.random() * RUN_MS;
      this.events.push({ atMs, kind: 'crash', node });
      this.events.push({ atMs: atMs + 20 + this.random() * 200, kind: 'restart', node });
    }
  }

  private note(line: string): void {
    for (let i = 0; i < line.length; i++) this.digest = Math.imul(this.digest ^ line.charCodeAt(i), 0x01000193);
    if (this.options.trace === true && this.trace.length < TRACE_MAX) this.trace.push(`${this.nowMs.toFixed(2)} ${line}`);
  }

  private handle(event: Event): void {
    switch (event.kind) {
      case 'deliver': return this.deliver(event.from, event.to, event.message);
      case 'client-next': return this.clientNext(event.node);
      case 'client-tick': return this.clientTick(event.node);
      case 'crash': return this.crash(event.node);
      case 'restart': return this.restart(event.node);
      case 'learn-layout': return this.learnLayout(event.node, event.layout);
      case 'move': return this.move();
      case 'operator-tick': return this.operatorTick();
    }
  }

  // --- the network -------------------------------------------------------------------------

  private send(from: string, to: string, message: PaxosMessage<string>): void {
    if (this.random() < this.lossRate) {
      this.stats.messagesLost++;
      return;
    }
    const copies = this.random() < this.duplicateRate ? 2 : 1;
    if (copies === 2) this.stats.messagesDuplicated++;
    for (let i = 0; i < copies; i++) {
      const delayMs = this.random() < this.slowRate ? 50 + this.random() * 400 : 0.5 + this.random() * 15;
      this.events.push({ atMs: this.nowMs + delayMs, kind: 'deliver', from, to, message });
    }
  }

  private deliver(from: string, to: string, message: PaxosMessage<string>): void {
    if (this.up.get(to) === false) return;
    this.note(`${from}→${to} ${message.kind} ${message.key} ${message.ballot.counter}.${message.ballot.node}`);
    const disk = this.disks.get(to);
    if (disk !== undefined) return this.acceptorReceive(to, disk, from, message);
    let delivered = message;
    if (this.options.bug === 'skip-read' && message.kind === 'promise') delivered = { ...message, accepted: undefined };
    if (to === 'operator') return this.operatorOutput(this.operator?.proposer.receive(from, delivered, this.nowMs));
    const client = this.clients.get(to);
    if (client?.op !== undefined) this.clientOutput(to, client, client.op.proposer.receive(from, delivered, this.nowMs));
  }

  private acceptorReceive(node: string, disk: Map<string, AcceptorRecord<string>>, from: string, message: PaxosMessage<string>): void {
    const record = disk.get(message.key) ?? EMPTY_ACCEPTOR_RECORD;
    const fenceOff = this.options.bug === 'no-layout-fence';
    const step = stepAcceptor(record, fenceOff ? { ...message, layout: Number.MAX_SAFE_INTEGER } as PaxosMessage<string> : message);
    // Persist first, then reply: the order the acceptor's contract requires.
    if (step.persist !== undefined) disk.set(message.key, fenceOff ? { ...step.persist, layoutMin: 0 } : step.persist);
    if (step.reply === undefined) return;
    if (step.reply.kind === 'nack' && step.reply.reason === 'layout') this.stats.staleLayoutRefusals++;
    this.send(node, from, step.reply);
    // The nemesis's worst moment: right after a promise went out, before the accept arrives.
    if (step.reply.kind === 'promise' && this.random() < this.bounceRate) {
      this.events.push({ atMs: this.nowMs, kind: 'crash', node });
      this.events.push({ atMs: this.nowMs + 0.5 + this.random() * 10, kind: 'restart', node });
    }
  }

  // --- crashes -----------------------------------------------------------------------------

  private crash(node: string): void {
    if (this.up.get(node) === false || this.clients.get(node)?.up === false) return;
    this.note(`crash ${node}`);
    const client = this.clients.get(node);
    if (client === undefined) {
      this.up.set(node, false);
      this.stats.acceptorCrashes++;
      return;
    }
    client.up = false;
    client.op = undefined; // its request's outcome stays unknown in the history
    this.stats.clientCrashes++;
  }

  private restart(node: string): void {
    this.note(`restart ${node}`);
    const client = this.clients.get(node);
    if (client === undefined) {
      if (this.up.get(node) === true) return;
      this.up.set(node, true);
      if (this.options.bug === 'forget-promise-on-restart') {
        const disk = this.disks.get(node)!;
        for (const [key, record] of disk) disk.set(key, { ...record, promised: record.accepted?.ballot ?? ZERO_BALLOT });
      }
      return;
    }
    if (client.up) return;
    client.up = true;
    client.clock = new BallotClock(node, client.ballotMark);
    client.layout = this.layout; // a restarted node reads the current layout at start-up
    this.events.push({ atMs: this.nowMs + 1, kind: 'client-next', node });
  }

  // --- clients -----------------------------------------------------------------------------

  private clientNext(name: string): void {
    const client = this.clients.get(name)!;
    if (!client.up || client.op !== undefined) return;
    if (client.done >= OPS_PER_CLIENT || this.nowMs > RUN_MS) return;
    // One hot key, for contention: most rounds race with another on it.
    const key = this.random() < 0.8 ? KEYS[0]! : KEYS[Math.floor(this.random() * KEYS.length)]!;
    const roll = this.random();
    const value = `${name}-${++this.opCounter}`;
    const seen = client.seen.get(key) ?? { value: null, version: 0 };
    const fresh = this.random() < 0.8;
    const call: RegisterCall = roll < 0.3 ? { kind: 'read' } : roll < 0.45 ? { kind: 'write', value }
      : roll < 0.75 ? { kind: 'cas', expected: fresh ? seen.value : null, value }
      : { kind: 'cas-version', expected: fresh ? seen.version : 0, value };
    const change: Change<string> = call.kind === 'read' ? { kind: 'read' } : { kind: 'set', value: call.value, requestId: value, condition: conditionOf(call) };
    const proposer = new CasProposer<string>({
      key, change, lists: this.lists.get(client.layout)!, layout: client.layout, clock: client.clock, random: this.random,
      equals: (a, b) => a === b, config: PROPOSER_CONFIG,
    });
    client.op = { proposer, index: this.history.length, call };
    this.history.push({ op: { process: name, key, call, invokedAt: this.seq }, outcome: undefined });
    this.stats.operations++;
    client.done++;
    this.note(`${name} invoke ${key} ${JSON.stringify(call)} layout ${client.layout}`);
    this.clientOutput(name, client, proposer.start(this.nowMs));
    this.events.push({ atMs: this.nowMs + TICK_MS, kind: 'client-tick', node: name });
  }

  private clientTick(name: string): void {
    const client = this.clients.get(name)!;
    if (!client.up || client.op === undefined) return;
    this.clientOutput(name, client, client.op.proposer.tick(this.nowMs));
    if (client.op !== undefined) this.events.push({ atMs: this.nowMs + TICK_MS, kind: 'client-tick', node: name });
  }

  private clientOutput(name: string, client: Client, output: ProposerOutput<string>): void {
    // The ballot mark is durable before any message carrying the new ballot leaves.
    if (output.persistBallotMark !== undefined) client.ballotMark = output.persistBallotMark;
    for (const { to, message } of output.send) this.send(name, to, message);
    if (output.decision === undefined || client.op === undefined) return;
    const { index, call } = client.op;
    client.op = undefined;
    this.record(name, client, index, call, output.decision);
    this.events.push({ atMs: this.nowMs + this.random() * 30, kind: 'client-next', node: name });
  }

  private record(name: string, client: Client, index: number, call: RegisterCall, decision: CasDecision<string>): void {
    const entry = this.history[index]!;
    const key = entry.op.key;
    this.note(`${name} complete ${key} ${JSON.stringify(decision)}`);
    if (decision.kind === 'failed') {
      if (decision.reason === 'stale-layout') client.layout = this.layout;
      entry.outcome = decision.maybeApplied ? { status: 'unknown' } : { status: 'failed', completedAt: this.seq };
      return;
    }
    client.seen.set(key, { value: decision.state.value, version: decision.state.version });
    if (call.kind === 'read') entry.outcome = { status: 'ok', completedAt: this.seq, result: { kind: 'read', value: decision.state.value, version: decision.state.version } };
    else if (call.kind === 'write') entry.outcome = { status: 'ok', completedAt: this.seq, result: { kind: 'write' } };
    else {
      const ok = decision.kind === 'applied';
      if (ok) this.stats.casApplied++;
      else this.stats.casRefused++;
      entry.outcome = { status: 'ok', completedAt: this.seq, result: { kind: 'cas', ok } };
    }
  }

  private learnLayout(name: string, layout: number): void {
    const client = this.clients.get(name)!;
    if (client.up && client.layout < layout) client.layout = layout;
  }

  // --- the membership change ---------------------------------------------------------------

  /** Announces a layout; every client learns it after its own random lag (gossip is not instant). */
  private announce(layout: number, lists: string[][]): void {
    this.note(`layout ${layout} ${JSON.stringify(lists)}`);
    this.layout = layout;
    this.lists.set(layout, lists);
    for (const name of CLIENTS) {
      const lagMs = this.random() < 0.3 ? 300 + this.random() * 1_500 : this.random() * 150;
      this.events.push({ atMs: this.nowMs + lagMs, kind: 'learn-layout', node: name, layout });
    }
  }

  private move(): void {
    if (this.options.bug === 'skip-joint-phase') return this.announce(2, [NEW_LIST]);
    this.announce(2, [OLD_LIST, NEW_LIST]);
    this.startBarrier();
  }

  /**
   * The barrier: one joint read round per key (here: each key in turn, a new proposer per
   * attempt) must complete before the new list alone is announced.
   */
  private barrierKeys = [...KEYS];

  private startBarrier(): void {
    const key = this.barrierKeys[0];
    if (key === undefined) return this.announce(3, [NEW_LIST]);
    const clock = this.operator?.clock ?? new BallotClock('operator', 0);
    const proposer = new CasProposer<string>({ key, change: { kind: 'read' }, lists: this.lists.get(2)!, layout: 2, clock, random: this.random, equals: (a, b) => a === b, config: PROPOSER_CONFIG });
    this.operator = { proposer, clock };
    this.operatorOutput(proposer.start(this.nowMs));
    this.events.push({ atMs: this.nowMs + TICK_MS, kind: 'operator-tick' });
  }

  private operatorTick(): void {
    if (this.operator === undefined || this.operator.proposer.done) return;
    this.operatorOutput(this.operator.proposer.tick(this.nowMs));
    if (!this.operator.proposer.done) this.events.push({ atMs: this.nowMs + TICK_MS, kind: 'operator-tick' });
  }

  private operatorOutput(output: ProposerOutput<string> | undefined): void {
    if (output === undefined) return;
    for (const { to, message } of output.send) this.send('operator', to, message);
    if (output.decision === undefined) return;
    this.note(`operator barrier ${this.barrierKeys[0]} ${output.decision.kind}`);
    if (output.decision.kind !== 'failed') this.barrierKeys.shift();
    this.startBarrier();
  }
}
