/**
 * Runs the pure SWIM machine on real sockets: UDP datagrams (node:dgram) for probes, acks and
 * gossip, and TCP on the same port number for push/pull full-state exchanges (too big for a
 * datagram), as memberlist does. Every packet is encrypted and authenticated (packet.ts) and
 * bound to its receiver when the driver knows who listens at the address; drops are counted
 * by reason. Time comes from a 50 ms tick. I/O lives here; decisions live in swim.ts.
 *
 * Nothing a peer sends can end the process: every socket callback, timer and send runs inside
 * a guard that counts and logs what it caught (`handler_errors`) and drops that one packet or
 * connection, every address is validated before a socket sees it, and every read is bounded
 * in size and time (one frame at most FRAME_BYTES_MAX, all unauthenticated TCP input together
 * at most TCP_BUFFERED_BYTES_MAX, TCP_TIMEOUT_MS per frame, TCP_CONNECTIONS_MAX at once).
 */
import { PEER_CLOCK_WINDOW_MS } from '../../transport/replay-guard.js';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { Swim, type SwimOutput } from './swim.js';
import { decodePacket, encodePacket, isGossipAddress, PACKET_HEADER_BYTES, ReplayWindow, type DropReason } from './packet.js';
import type { SwimConfig, SwimEvent, SwimMessage } from './types.js';
import type { FaultPlan } from '../../transport/fault-plan.js';
import { joinHostPort, resolveSeeds, systemResolver, type SeedResolver } from './seeds.js';

export interface SwimDriverOptions {
  readonly selfId: string;
  readonly host: string;
  /** The address other members reach this one at (--gossip-advertise); default the bind address and bound port. */
  readonly advertise?: { readonly host: string; readonly port?: number };
  /** UDP and TCP port; 0 lets the OS pick (the same number is then used for both). */
  readonly port: number;
  readonly httpAddress: string;
  /** This member's zone (`--zone`), gossiped with its alive record; absent for none. */
  readonly zone?: string;
  /** Gossip keys of the keyring, primary first (read per packet: a reload takes effect at once). */
  readonly keys: () => readonly Uint8Array[];
  /** `host:port` seeds; host names are resolved at every join attempt (seeds.ts). */
  readonly seeds: readonly string[];
  /** Resolves seed names; the system resolver by default (tests inject one). */
  readonly resolve?: SeedResolver;
  readonly config: SwimConfig;
  readonly logger: Logger;
  readonly tickMs?: number;
  /** The wall clock (packets carry it; SWIM's timers run on it). Required: no part picks its own clock. */
  readonly nowMs: () => number;
  /** Uniform in [0, 1): SWIM's probe order and gossip targets, and push/pull reply tags. */
  readonly random: () => number;
  /** Accepted clock difference and replay window for packets (GOSSIP_WINDOW_MS_DEFAULT). */
  readonly windowMs?: number;
  /** Told the sender's wall clock of every authentic packet (membership/clock-skew.ts). */
  readonly onPeerClock?: (peer: string, peerTimeMs: number, nowMs: number) => void;
  /** Injected partitions (fault harness only): packets to these members are dropped. */
  readonly faults?: FaultPlan;
}

export interface SwimDriverStats {
  packetsIn: number;
  packetsOut: number;
  pushPulls: number;
  dropped: Record<DropReason, number>;
  /** Exceptions caught at a socket callback (a bug or a hostile input; logged). */
  handlerErrors: number;
}

/**
 * Accepted clock difference for packets: 5 minutes, wider than the 30 s of internal requests,
 * so a node whose clock is off by tens of seconds still gossips, joins, and hears (and says,
 * in /readyz and status) how far off it is, rather than silently staying alone (issue 16.5).
 * Replays within the window are dropped by iv; older ones only repeat claims the precedence
 * rules already order by incarnation (packet.ts).
 */
export const GOSSIP_WINDOW_MS_DEFAULT = PEER_CLOCK_WINDOW_MS;

/** Largest push/pull frame. */
const FRAME_BYTES_MAX = 16 * 1024 * 1024;
/** Most unauthenticated push/pull bytes buffered across all connections at once. */
const TCP_BUFFERED_BYTES_MAX = 32 * 1024 * 1024;
const TCP_TIMEOUT_MS = 5_000;
const TCP_CONNECTIONS_MAX = 64;
/** Most remote addresses remembered with the member id that last wrote from them. */
const SENDERS_MAX = 4_096;

/** Host and port of a validated gossip address (packet.ts isGossipAddress). */
function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}

/** Counts the bytes every frame reader holds, so that all of them together stay bounded. */
class ByteBudget {
  used = 0;
  constructor(readonly max: number) {}
}

/**
 * Reads one length-prefixed frame from a socket, bounded in size (its own and the shared
 * budget) and time. Chunks are kept as they come and joined once: no copy per chunk.
 */
function readFrame(socket: Socket, budget: ByteBudget): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = -1;
    let total = 0;
    let settled = false;
    const release = () => {
      budget.used -= total;
      total = 0;
    };
    const timer = setTimeout(() => fail(new Error('push/pull timed out')), TCP_TIMEOUT_MS);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      release();
      socket.destroy();
      reject(error);
    };
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      chunks.push(chunk);
      total += chunk.length;
      budget.used += chunk.length;
      if (length < 0 && total >= 4) {
        length = (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(0);
        if (length > FRAME_BYTES_MAX) return fail(new Error('push/pull frame too large'));
      }
      if (length >= 0 && total >= 4 + length) {
        // Complete (bytes past the frame are ignored: the connection ends after one frame).
        settled = true;
        clearTimeout(timer);
        const all = Buffer.concat(chunks, total);
        release();
        return resolve(all.subarray(4, 4 + length));
      }
      if (total > FRAME_BYTES_MAX + 4) return fail(new Error('push/pull frame too large'));
      if (budget.used > budget.max) fail(new Error('push/pull input over the shared budget'));
    });
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed before a full frame')));
  });
}

function frame(packet: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(packet.length);
  return Buffer.concat([header, packet]);
}

export class SwimDriver {
  readonly stats: SwimDriverStats = { packetsIn: 0, packetsOut: 0, pushPulls: 0, dropped: { oversize: 0, unauthenticated: 0, stale: 0, replayed: 0, malformed: 0 }, handlerErrors: 0 };
  private readonly listeners = new Set<(events: SwimEvent[]) => void>();
  private readonly replay: ReplayWindow;
  private readonly nowMs: () => number;
  private readonly windowMs: number;
  /** Open push/pull connections waiting for this side's answer, with the id of who asked. */
  private readonly tcpReplies = new Map<string, { socket: Socket; id: string | undefined }>();
  /** Who last wrote from each remote address (authenticated): replies are bound to them. */
  private readonly senders = new Map<string, string>();
  private readonly tcpBudget = new ByteBudget(TCP_BUFFERED_BYTES_MAX);
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;
  private connections = 0;
  readonly swim: Swim;

  private constructor(
    private readonly options: SwimDriverOptions,
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly gossipAddress: string,
  ) {
    this.nowMs = options.nowMs;
    this.windowMs = options.windowMs ?? GOSSIP_WINDOW_MS_DEFAULT;
    this.replay = new ReplayWindow(this.windowMs);
    const zone = options.zone === undefined ? {} : { zone: options.zone };
    this.swim = new Swim({ id: options.selfId, gossipAddress, httpAddress: options.httpAddress, ...zone }, options.config, options.random, this.nowMs());
    const remoteOf = (remote: { address: string; family: string; port: number }) => (remote.family === 'IPv6' ? `[${remote.address}]:${remote.port}` : `${remote.address}:${remote.port}`);
    udp.on('message', (packet, remote) => this.guard('datagram', () => this.onDatagram(packet, remoteOf(remote))));
    // A socket error (ICMP unreachable surfacing as ECONNREFUSED, EMSGSIZE) is not fatal here.
    udp.on('error', (error) => this.caught('udp socket', error));
    tcp.on('error', (error) => this.caught('tcp server', error));
    tcp.on('connection', (socket) => this.guard('connection', () => void this.onConnection(socket)));
  }

  /** Binds UDP and TCP on one port and starts ticking and joining. */
  static async start(options: SwimDriverOptions): Promise<SwimDriver> {
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(options.port, options.host, () => resolve());
      });
      const port = udp.address().port;
      const tcp = createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, options.host, () => resolve());
        });
      } catch (error) {
        udp.close();
        // With an OS-chosen UDP port the same TCP port may be taken: try another.
        if (options.port === 0 && attempt < 10) continue;
        throw error;
      }
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      // What other members dial: the advertised host (and port, if given) over the bind address.
      const advertised = options.advertise === undefined ? `${host}:${port}` : `${options.advertise.host}:${options.advertise.port ?? port}`;
      const driver = new SwimDriver(options, udp, tcp, advertised);
      driver.begin();
      return driver;
    }
  }

  private begin(): void {
    this.ticker = setInterval(() => this.guard('tick', () => this.run(this.swim.tick(this.nowMs()))), this.options.tickMs ?? 50);
    this.join();
  }

  /**
   * Joins through the seeds, retrying every second until another member is known. Each attempt
   * resolves seed names again and tries every address (seeds.ts), leaving out this node's own.
   */
  private join(): void {
    if (this.options.seeds.length === 0 || this.closed) return;
    const family = this.udp.address().family === 'IPv6' ? 6 : 4;
    void resolveSeeds(this.options.seeds, this.options.resolve ?? systemResolver, family, (address) => this.isOwnAddress(address), this.options.logger)
      .then((seeds) => {
        if (!this.closed && seeds.length > 0) this.guard('join', () => this.run(this.swim.join(seeds, this.nowMs())));
      })
      .catch((error: unknown) => this.caught('join', error))
      .finally(() => {
        setTimeout(() => {
          if (!this.closed && this.swim.liveCount() <= 1) this.join();
        }, 1_000).unref();
      });
  }

  /** Whether `address` (host:port) is this node: its advertised address, or a local address on its port. */
  private isOwnAddress(address: string): boolean {
    if (address === this.gossipAddress) return true;
    const port = this.udp.address().port;
    const local = Object.values(networkInterfaces()).flatMap((list) => list ?? []).map((entry) => joinHostPort(entry.address, port));
    return local.includes(address) || address === joinHostPort(this.udp.address().address, port);
  }

  /**
   * Whether this node has joined its ring: it was started without seeds (the first node of a
   * ring), or it has merged another member's full state (a push-pull: its join's, or a
   * member's periodic one). Until then its member list may be itself alone. A node whose seeds
   * all name itself is not joined until another member reaches it: a restarted node cannot
   * tell "I am the whole ring" from "the others are not up yet" (docs/membership.md).
   */
  get joined(): boolean {
    return this.options.seeds.length === 0 || this.swim.fullStatesMerged > 0;
  }

  onEvents(listener: (events: SwimEvent[]) => void): void {
    this.listeners.add(listener);
  }

  private run(output: SwimOutput): void {
    if (output.events.length > 0) for (const listener of this.listeners) listener(output.events);
    for (const packet of output.packets) this.sendPacket(packet.to, packet.message);
  }

  /** Runs `fn`; anything it throws is counted, logged and goes no further (see the module comment). */
  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.caught(where, error);
    }
  }

  private caught(where: string, error: unknown): void {
    this.stats.handlerErrors++;
    this.options.logger.warn({ err: error, where }, 'gossip: error caught at a socket callback; the packet or connection was dropped');
  }

  /** The member that listens at `address`, if known (for binding packets to their receiver). */
  private receiverAt(to: string, message: SwimMessage): string | undefined {
    if (message.type === 'ping') return message.target;
    return this.senders.get(to) ?? this.swim.allMembers().find((m) => m.gossipAddress === to)?.id;
  }

  /** Remembers who wrote from `address` (bounded: the oldest half is forgotten when full). */
  private rememberSender(address: string, id: string): void {
    if (this.senders.get(address) === id) return;
    if (this.senders.size >= SENDERS_MAX) for (const old of [...this.senders.keys()].slice(0, SENDERS_MAX / 2)) this.senders.delete(old);
    this.senders.set(address, id);
  }

  private sendPacket(to: string, message: SwimMessage): void {
    if (this.closed) return;
    if (this.options.faults?.active && this.swim.allMembers().some((m) => m.gossipAddress === to && this.options.faults!.blocks(m.id))) return;
    const reply = this.tcpReplies.get(to);
    const receiver = reply !== undefined ? reply.id : this.receiverAt(to, message);
    const packet = encodePacket(this.options.keys()[0]!, message, this.nowMs(), receiver);
    if (reply !== undefined) {
      this.tcpReplies.delete(to);
      reply.socket.end(frame(packet));
      return;
    }
    // Every address a peer can name was validated (packet.ts); seeds come from the config.
    // An address that still is not one is dropped here rather than thrown from dgram.
    if (!isGossipAddress(to)) {
      this.options.logger.debug({ to }, 'gossip: not sending to an invalid address');
      return;
    }
    if (message.type === 'push-pull') {
      void this.pushPull(to, packet);
      return;
    }
    const { host, port } = splitAddress(to);
    this.stats.packetsOut++;
    this.udp.send(packet, port, host, (error) => {
      if (error) this.options.logger.debug({ err: error, to }, 'gossip send failed');
    });
  }

  private onDatagram(packet: Buffer, from: string): void {
    const decoded = decodePacket(this.options.keys(), packet, this.nowMs(), this.options.config.packetBytesMax + PACKET_HEADER_BYTES + 512, this.replay, this.windowMs, this.options.selfId);
    if (!decoded.ok) {
      this.stats.dropped[decoded.reason]++;
      return;
    }
    this.stats.packetsIn++;
    this.options.onPeerClock?.(decoded.message.from, decoded.timeMs, this.nowMs());
    this.rememberSender(from, decoded.message.from);
    this.run(this.swim.receive(from, decoded.message, this.nowMs()));
  }

  /** Sends a push/pull over TCP and feeds the answer (if any) to the machine. */
  private async pushPull(to: string, packet: Buffer): Promise<void> {
    this.stats.pushPulls++;
    const { host, port } = splitAddress(to);
    try {
      const socket = createConnection({ host, port });
      socket.setTimeout(TCP_TIMEOUT_MS, () => socket.destroy(new Error('push/pull timed out')));
      socket.write(frame(packet));
      const answer = await readFrame(socket, this.tcpBudget);
      socket.destroy();
      this.guard('push/pull answer', () => this.onTcpPacket(answer, to));
    } catch (error) {
      this.options.logger.debug({ err: error, to }, 'push/pull failed');
    }
  }

  private async onConnection(socket: Socket): Promise<void> {
    socket.on('error', () => {}); // readFrame reports errors; a late one must not be unhandled
    if (this.connections >= TCP_CONNECTIONS_MAX) {
      socket.destroy(); // bounded: a flood of connections cannot pile up
      return;
    }
    this.connections++;
    try {
      const packet = await readFrame(socket, this.tcpBudget);
      const replyTo = `tcp:${this.connections}:${this.options.random()}`;
      this.tcpReplies.set(replyTo, { socket, id: undefined });
      // The answer is bound to whoever asked, once the question authenticated.
      this.guard('push/pull', () => this.onTcpPacket(packet, replyTo, (id) => this.tcpReplies.set(replyTo, { socket, id })));
      // Answered: the answer ended the socket. Not answered (dropped): cut it off, unread.
      if (this.tcpReplies.delete(replyTo)) socket.destroy();
    } catch {
      socket.destroy();
    } finally {
      this.connections--;
    }
  }

  /** Decodes a push/pull frame and feeds it to the machine. */
  private onTcpPacket(packet: Buffer, from: string, onSender?: (id: string) => void): void {
    const decoded = decodePacket(this.options.keys(), packet, this.nowMs(), FRAME_BYTES_MAX, this.replay, this.windowMs, this.options.selfId);
    if (!decoded.ok || decoded.message.type !== 'push-pull') {
      this.stats.dropped[decoded.ok ? 'malformed' : decoded.reason]++;
      return;
    }
    this.stats.packetsIn++;
    onSender?.(decoded.message.from);
    this.run(this.swim.receive(from, decoded.message, this.nowMs()));
  }

  /** Announces a graceful leave and gives the gossip a moment to spread it. */
  async leave(waitMs = 1_000): Promise<void> {
    if (this.closed) return;
    this.guard('leave', () => this.run(this.swim.leave(this.nowMs())));
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** Announces a drain (Swim.depart): peers stop routing here; the caller decides how long to keep serving. */
  depart(): void {
    if (!this.closed) this.guard('depart', () => this.run(this.swim.depart(this.nowMs())));
  }

  /** Removes a (dead) member for good and gossips it (Swim.remove). */
  remove(id: string): void {
    if (!this.closed) this.guard('remove', () => this.run(this.swim.remove(id, this.nowMs())));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    for (const reply of this.tcpReplies.values()) reply.socket.destroy();
    this.udp.close();
    await new Promise((resolve) => this.tcp.close(resolve));
  }
}
