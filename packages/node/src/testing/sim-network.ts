/**
 * The simulated network of the cluster simulation, layered on MemoryNetwork: each node's
 * PeerHandler is registered behind a proxy that turns a call into two messages on the
 * simulated clock, the request and the answer, each delayed by a seeded amount (so messages
 * reorder), lost with `lossRate`, and, for replica batches, sometimes delivered twice (a
 * retried request). Links can be cut one way or both (a cut link is a black hole, as across a
 * real split: the request waits for its timeout). A crashed node's address has no handler, so
 * calls to it are refused at once, as a closed port is.
 *
 * A replica batch that gets no answer within `peerTimeoutMs` fails with KV_ERR_TIMEOUT, as
 * HttpTransport's does; a forward is bounded by MemoryTransport's own deadline.
 *
 * A node's store can be made slow (`slowStore`: a stalled disk): its replica batches and the
 * forwards it coordinates start late, while its probes are answered as fast as ever, so the
 * coordinators' liveness probes must tell it from a cut link.
 *
 * Replica batches and forwards, and their answers, travel as stream frames through the real
 * codecs (sim-wire.ts), so the simulation runs the bytes the nodes exchange.
 *
 * Requests are stamped in the receiver's time as the sender last measured it (its hello, see
 * transport/auth.ts: the sender's wall clock plus the offset it learned), and the receiver
 * refuses one stamped more than `authSkewMs` from its own clock when it handles it, as the
 * internal routes' signature check does (30 s in production): the refusal comes back as
 * HttpTransport reports a 401 `stale-time`: the sender measures the offset again (a new hello)
 * and retries once, and a second refusal is KV_ERR_PEER_UNREACHABLE with `delivered: false`. So a clock step refuses the
 * requests in flight across it once, skew alone cuts nobody off, and a message held up longer
 * than the window (at a paused node) is refused. Anti-entropy's tree questions are answered at once, but not
 * across a cut link or a refused clock.
 */
import { KvError } from '../errors.js';
import { MemoryNetwork } from '../transport/memory-transport.js';
import type { PeerHandler } from '../transport/transport.js';
import type { Owner, SimClock } from './sim-clock.js';
import { FRAME_TYPES } from '../transport/frame.js';
import { decodeBatch, decodeBatchResults, decodeCoordinate, decodeCoordinateResult, encodeBatch, encodeBatchResults, encodeCoordinate, encodeCoordinateResult } from '../transport/messages.js';
import { overTheWire } from './sim-wire.js';

export interface NetworkOptions {
  readonly lossRate: number;
  readonly duplicateRate: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly peerTimeoutMs: number;
  /** A request stamped further than this from the receiver's clock is refused (auth window). */
  readonly authSkewMs: number;
}

export class SimNetwork {
  readonly memory = new MemoryNetwork();
  private readonly blocked = new Set<string>();
  /** Messages sent, lost (dropped or cut) and duplicated. */
  readonly counts = { sent: 0, lost: 0, duplicated: 0 };

  constructor(
    private readonly clock: SimClock,
    private readonly random: () => number,
    public options: NetworkOptions,
    /** The current incarnation of a node (its messages belong to it). */
    private readonly ownerOf: (node: string) => Owner,
    /** A node's wall clock (stepped clocks differ). */
    private readonly wallOf: (node: string) => number,
  ) {}

  /** Each sender's idea of each receiver's clock minus its own, as of its last hello. */
  private readonly offsets = new Map<string, number>();

  /** The time `from` stamps on a request to `to`: its own clock plus the offset it measured. */
  private stamp(from: string, to: string): number {
    const link = `${from}>${to}`;
    let offset = this.offsets.get(link);
    if (offset === undefined) {
      offset = this.wallOf(to) - this.wallOf(from);
      this.offsets.set(link, offset);
    }
    return this.wallOf(from) + offset;
  }

  /** Whether `to`, now, refuses a request `from` stamped at `sentMs` (outside the auth window). */
  private refuses(to: string, sentMs: number): boolean {
    return Math.abs(this.wallOf(to) - sentMs) > this.options.authSkewMs;
  }

  /** HttpTransport forgets a peer's hello after a refusal: the next request measures again. */
  private forgetOffset(from: string, to: string): void {
    this.offsets.delete(`${from}>${to}`);
  }

  private refusal(from: string, to: string): KvError {
    return new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${to} refused ${from}'s request: 401 (clock skew)`, { peer: to, status: 401, delivered: false });
  }

  /** Nodes whose store is slow, and by how much (a stalled disk: their process still answers probes). */
  private readonly slowStores = new Map<string, number>();

  /** From now on `node`'s replica work and forwarded writes start `delayMs` late (0: back to normal). */
  slowStore(node: string, delayMs: number): void {
    if (delayMs > 0) this.slowStores.set(node, delayMs);
    else this.slowStores.delete(node);
  }

  /** Bumped by healAll: work a slow store still held back then is dropped. */
  private storeEpoch = 0;

  /**
   * Runs `work` at `node` now, or after its slow store's delay. Work still held back when the
   * faults end is dropped (counted as lost, like a message: its sender times out), so nothing
   * lands in the middle of the final convergence checks.
   */
  private atStore(node: string, label: string, work: () => void, owner: Owner): void {
    const delayMs = this.slowStores.get(node);
    if (delayMs === undefined) return work();
    const epoch = this.storeEpoch;
    this.clock.at(delayMs, `slow-store ${label} ${node}`, () => {
      if (epoch === this.storeEpoch) return work();
      this.counts.lost++;
    }, owner);
  }

  static address(node: string): string {
    return `http://${node}.sim`;
  }

  /** Serves `handler` as `owner`'s incarnation of its node. */
  attach(owner: Owner, handler: PeerHandler): void {
    this.memory.register(SimNetwork.address(owner.node), this.proxy(owner, handler));
  }

  /** The node's process is gone: calls to it are refused. */
  detach(node: string): void {
    this.memory.unregister(SimNetwork.address(node));
  }

  /** Cuts the link from `from` to `to` (one way). */
  cut(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  isCut(from: string, to: string): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  healAll(): void {
    this.blocked.clear();
    this.slowStores.clear();
    this.storeEpoch++;
  }

  /** Sends one message: after a seeded delay `deliver` runs as `owner`, unless it is lost. */
  private send(from: string, to: string, label: string, deliver: () => void, owner: Owner): void {
    this.counts.sent++;
    const { lossRate, minDelayMs, maxDelayMs } = this.options;
    if (this.isCut(from, to) || this.random() < lossRate) {
      this.counts.lost++;
      return;
    }
    const delayMs = minDelayMs + this.random() * (maxDelayMs - minDelayMs);
    this.clock.at(delayMs, `${label} ${from}>${to}`, deliver, owner);
  }

  /**
   * `handler` as its peers reach it through this network: each request and answer is a
   * message, delayed, lost, duplicated or cut like any other (one method per request kind).
   */
  private proxy(target: Owner, handler: PeerHandler): PeerHandler {
    return {
      tree: (request, from) => this.proxyTree(target.node, handler, request, from),
      replicaBatch: (ops, from) => this.proxyBatch(target, handler, ops, from),
      probe: (from) => this.proxyProbe(target, from),
      coordinate: (request, from) => this.proxyCoordinate(target, handler, request, from),
    };
  }

  /**
   * Anti-entropy questions are answered at once (not delayed or lost): added by the
   * anti-entropy change so this proxy keeps compiling; model them here if the sim needs them.
   */
  private proxyTree(to: string, handler: PeerHandler, request: Parameters<PeerHandler['tree']>[0], from: string): ReturnType<PeerHandler['tree']> {
    if (this.isCut(from, to) || this.isCut(to, from)) throw new KvError('KV_ERR_PEER_UNREACHABLE', `peer ${to} unreachable`, { peer: to, delivered: false });
    if (this.refuses(to, this.stamp(from, to))) {
      // Refused as stale-time: the sender says hello again and retries once.
      this.forgetOffset(from, to);
      if (this.refuses(to, this.stamp(from, to))) throw this.refusal(from, to);
    }
    return handler.tree(request, from);
  }

  /** A replica batch: answered, refused as stale-time (hello again, retry once), or timed out at the sender. */
  private proxyBatch(target: Owner, handler: PeerHandler, ops: Parameters<PeerHandler['replicaBatch']>[0], from: string): ReturnType<PeerHandler['replicaBatch']> {
    const to = target.node;
    return new Promise((resolve, reject) => {
      const sender = this.ownerOf(from);
      const timer = this.clock.at(
        this.options.peerTimeoutMs,
        `batch-timeout ${from}>${to}`,
        () => reject(new KvError('KV_ERR_TIMEOUT', `peer ${to} did not answer within ${this.options.peerTimeoutMs} ms`, { peer: to })),
        sender,
      );
      const attempt = (retried: boolean) => {
        const sentMs = this.stamp(from, to);
        const request = (answer: boolean) => () => {
          if (this.refuses(to, sentMs)) {
            if (answer) this.send(to, from, 'batch-refused', () => {
              this.forgetOffset(from, to);
              if (!retried) return attempt(true);
              this.clock.cancel(timer);
              reject(this.refusal(from, to));
            }, sender);
            return;
          }
          // A handler that throws is a bug; its answer is then lost and the sender times out.
          const received = overTheWire(FRAME_TYPES.batch, encodeBatch(ops), decodeBatch);
          this.atStore(to, 'batch', () => void handler.replicaBatch(received, from).then((results) => {
            if (!answer) return;
            const answered = overTheWire(FRAME_TYPES.batchResult, encodeBatchResults(results), decodeBatchResults);
            this.send(to, from, 'batch-answer', () => {
              this.clock.cancel(timer);
              resolve(answered);
            }, sender);
          }, () => undefined), target);
        };
        this.send(from, to, `batch(${ops.map((op) => `${op.kind}:${op.key}`).join(',')})`, request(true), target);
        if (this.random() < this.options.duplicateRate) {
          this.counts.duplicated++;
          this.send(from, to, 'batch-duplicate', request(false), target);
        }
      };
      attempt(false);
    });
  }

  /**
   * A liveness probe: two messages, delayed and lost like any other; a paused node answers
   * only once it resumes (its deliveries wait), a slow store does not delay it. The sender's
   * transport gives up at its own timeout.
   */
  private proxyProbe(target: Owner, from: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const sender = this.ownerOf(from);
      this.send(from, target.node, 'probe', () => this.send(target.node, from, 'pong', resolve, sender), target);
    });
  }

  /** A forwarded request (one hop to a replica that coordinates it), refused as stale-time at most once. */
  private proxyCoordinate(target: Owner, handler: PeerHandler, request: Parameters<PeerHandler['coordinate']>[0], from: string): ReturnType<PeerHandler['coordinate']> {
    const to = target.node;
    return new Promise((resolve, reject) => {
      const sender = this.ownerOf(from);
      const attempt = (retried: boolean) => {
        const sentMs = this.stamp(from, to);
        this.send(from, to, `forward(${request.kind}:${request.key})`, () => {
          if (this.refuses(to, sentMs)) {
            return this.send(to, from, 'forward-refused', () => {
              this.forgetOffset(from, to);
              if (!retried) attempt(true);
              else reject(this.refusal(from, to));
            }, sender);
          }
          const received = overTheWire(FRAME_TYPES.coordinate, encodeCoordinate(request), decodeCoordinate);
          this.atStore(to, 'forward', () => void handler.coordinate(received, from).then((result) => {
            const answered = overTheWire(FRAME_TYPES.coordinateResult, encodeCoordinateResult(result), decodeCoordinateResult);
            this.send(to, from, 'forward-answer', () => resolve(answered), sender);
          }, () => undefined), target);
        }, target);
      };
      attempt(false);
    });
  }
}
