/**
 * Runs the pure SWIM machine on real sockets: UDP datagrams (node:dgram) for probes, acks and
 * gossip, and TCP on the same port number for push/pull full-state exchanges (too big for a
 * datagram), as memberlist does. Every packet is authenticated (packet.ts); drops are counted
 * by reason. Time comes from a 50 ms tick. I/O lives here; decisions live in swim.ts.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { Swim, type SwimOutput } from './swim.js';
import { decodePacket, encodePacket, PACKET_HEADER_BYTES, ReplayWindow, type DropReason } from './packet.js';
import type { SwimConfig, SwimEvent, SwimMessage } from './types.js';
import type { FaultPlan } from '../../transport/fault-plan.js';

export interface SwimDriverOptions {
  readonly selfId: string;
  readonly host: string;
  /** UDP and TCP port; 0 lets the OS pick (the same number is then used for both). */
  readonly port: number;
  readonly httpAddress: string;
  readonly secret: string;
  readonly seeds: readonly string[];
  readonly config: SwimConfig;
  readonly logger: Logger;
  readonly tickMs?: number;
  readonly nowMs?: () => number;
  /** Accepted clock difference and replay window for packets. */
  readonly windowMs?: number;
  /** Injected partitions (fault harness only): packets to these members are dropped. */
  readonly faults?: FaultPlan;
}

export interface SwimDriverStats {
  packetsIn: number;
  packetsOut: number;
  pushPulls: number;
  dropped: Record<DropReason, number>;
}

const FRAME_BYTES_MAX = 16 * 1024 * 1024;
const TCP_TIMEOUT_MS = 5_000;

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}

/** Reads one length-prefixed frame from a socket (bounded in size and time). */
function readFrame(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = -1;
    let total = 0;
    const timer = setTimeout(() => fail(new Error('push/pull timed out')), TCP_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      const all = Buffer.concat(chunks);
      if (length < 0 && all.length >= 4) {
        length = all.readUInt32BE(0);
        if (length > FRAME_BYTES_MAX) return fail(new Error('push/pull frame too large'));
      }
      if (length >= 0 && all.length >= 4 + length) {
        clearTimeout(timer);
        resolve(all.subarray(4, 4 + length));
      } else if (total > FRAME_BYTES_MAX + 4) fail(new Error('push/pull frame too large'));
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
  readonly stats: SwimDriverStats = { packetsIn: 0, packetsOut: 0, pushPulls: 0, dropped: { oversize: 0, unauthenticated: 0, stale: 0, replayed: 0, malformed: 0 } };
  private readonly listeners = new Set<(events: SwimEvent[]) => void>();
  private readonly replay: ReplayWindow;
  private readonly nowMs: () => number;
  private readonly windowMs: number;
  private readonly tcpReplies = new Map<string, Socket>();
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
    this.nowMs = options.nowMs ?? Date.now;
    this.windowMs = options.windowMs ?? 30_000;
    this.replay = new ReplayWindow(this.windowMs);
    this.swim = new Swim({ id: options.selfId, gossipAddress, httpAddress: options.httpAddress }, options.config, Math.random, this.nowMs());
    udp.on('message', (packet, remote) => this.onDatagram(packet, `${remote.address}:${remote.port}`));
    tcp.on('connection', (socket) => void this.onConnection(socket));
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
      const driver = new SwimDriver(options, udp, tcp, `${host}:${port}`);
      driver.begin();
      return driver;
    }
  }

  private begin(): void {
    this.ticker = setInterval(() => this.run(this.swim.tick(this.nowMs())), this.options.tickMs ?? 50);
    this.join();
  }

  /** Joins through the seeds, retrying every second until another member is known. */
  private join(): void {
    const seeds = this.options.seeds.filter((seed) => seed !== this.gossipAddress);
    if (seeds.length === 0 || this.closed) return;
    this.run(this.swim.join(seeds, this.nowMs()));
    setTimeout(() => {
      if (!this.closed && this.swim.liveCount() <= 1) this.join();
    }, 1_000).unref();
  }

  onEvents(listener: (events: SwimEvent[]) => void): void {
    this.listeners.add(listener);
  }

  private run(output: SwimOutput): void {
    if (output.events.length > 0) for (const listener of this.listeners) listener(output.events);
    for (const packet of output.packets) this.sendPacket(packet.to, packet.message);
  }

  private sendPacket(to: string, message: SwimMessage): void {
    if (this.closed) return;
    if (this.options.faults?.active && this.swim.allMembers().some((m) => m.gossipAddress === to && this.options.faults!.blocks(m.id))) return;
    const packet = encodePacket(this.options.secret, message, this.nowMs());
    const reply = this.tcpReplies.get(to);
    if (reply !== undefined) {
      this.tcpReplies.delete(to);
      reply.end(frame(packet));
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
    const decoded = decodePacket(this.options.secret, packet, this.nowMs(), this.options.config.packetBytesMax + PACKET_HEADER_BYTES + 512, this.replay, this.windowMs);
    if (!decoded.ok) {
      this.stats.dropped[decoded.reason]++;
      return;
    }
    this.stats.packetsIn++;
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
      const answer = await readFrame(socket);
      socket.destroy();
      this.onTcpPacket(answer, to);
    } catch (error) {
      this.options.logger.debug({ err: error, to }, 'push/pull failed');
    }
  }

  private async onConnection(socket: Socket): Promise<void> {
    if (this.connections >= 64) {
      socket.destroy(); // bounded: a flood of connections cannot pile up
      return;
    }
    this.connections++;
    try {
      const packet = await readFrame(socket);
      const replyTo = `tcp:${this.connections}:${Math.random()}`;
      this.tcpReplies.set(replyTo, socket);
      this.onTcpPacket(packet, replyTo);
      if (this.tcpReplies.delete(replyTo)) socket.end();
    } catch {
      socket.destroy();
    } finally {
      this.connections--;
    }
  }

  private onTcpPacket(packet: Buffer, from: string): void {
    const decoded = decodePacket(this.options.secret, packet, this.nowMs(), FRAME_BYTES_MAX, this.replay, this.windowMs);
    if (!decoded.ok || decoded.message.type !== 'push-pull') {
      this.stats.dropped[decoded.ok ? 'malformed' : decoded.reason]++;
      return;
    }
    this.stats.packetsIn++;
    this.run(this.swim.receive(from, decoded.message, this.nowMs()));
  }

  /** Announces a graceful leave and gives the gossip a moment to spread it. */
  async leave(waitMs = 1_000): Promise<void> {
    if (this.closed) return;
    this.run(this.swim.leave(this.nowMs()));
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** Removes a (dead) member for good and gossips it (Swim.remove). */
  remove(id: string): void {
    if (!this.closed) this.run(this.swim.remove(id, this.nowMs()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    for (const socket of this.tcpReplies.values()) socket.destroy();
    this.udp.close();
    await new Promise((resolve) => this.tcp.close(resolve));
  }
}
