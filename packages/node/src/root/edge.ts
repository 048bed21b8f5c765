/**
 * The composition root's listening edge: the HTTP(S) server on the client port, bound before
 * the node is assembled (the app needs the URL, known only once the port is bound), and the
 * addresses this node advertises for HTTP and gossip.
 */
import type { AddressInfo, Socket } from 'node:net';
import type { Server } from 'node:http';
import type { Hono } from 'hono';
import { parseHostPort, type NodeConfig } from '../config.js';
import type { TlsMaterial } from '../access/tls-files.js';
import { createEdgeServer } from '../http/edge-server.js';
import type { StreamAcceptor } from '../transport/stream-acceptor.js';

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The bound client port, what others dial, and how to hand it the assembled node. */
export interface ListeningEdge {
  readonly server: Server;
  readonly counts: ReturnType<typeof createEdgeServer>['counts'];
  readonly port: number;
  /** This node's HTTP base URL as others dial it (--advertise, else the bind address and port). */
  readonly url: string;
  /** The gossip address others dial, when it differs from the bind address (--gossip-advertise). */
  readonly gossipAdvertised: { host: string; port?: number } | undefined;
  /** Starts serving: requests go to `fetch`, peers' stream upgrades to `acceptor`. */
  attach(fetch: Hono['fetch'], acceptor: StreamAcceptor): void;
}

/** Binds the client port; until `attach`, nothing arrives (nothing awaits in between) and upgrades are hung up. */
export async function openEdge(config: NodeConfig, tls: TlsMaterial | undefined): Promise<ListeningEdge> {
  let fetch: Hono['fetch'] | undefined;
  let acceptor: StreamAcceptor | undefined;
  const edge = createEdgeServer((request, env) => fetch!(request, env), {
    connectionsMax: config.connectionsMax,
    headersTimeoutMs: config.headersTimeoutMs, // a client that trickles its headers is cut off (slowloris)
    requestTimeoutMs: Math.max(config.requestTimeoutMsMax + 5_000, 30_000),
    keepAliveTimeoutMs: 65_000,
    ...(tls ? { tls } : {}),
  });
  const server = edge.server;
  // Peer streams arrive as HTTP upgrades on the client port (docs/transport.md); anything that
  // comes before the node is assembled is hung up.
  server.on('upgrade', (req, socket: Socket, head: Buffer) => (acceptor === undefined ? socket.destroy() : acceptor.upgrade(req, socket, head)));
  const port = await listen(server, config.httpPort, config.host);
  // What others dial (--advertise), else the bind address and the bound port.
  const advertised = config.advertise === '' ? undefined : parseHostPort(config.advertise)!;
  const bindHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${edge.scheme}://${advertised?.host ?? bindHost}:${advertised?.port ?? port}`;
  const gossipAdvertised = config.gossipAdvertise !== '' ? parseHostPort(config.gossipAdvertise)! : advertised === undefined ? undefined : { host: advertised.host };
  return {
    server,
    counts: edge.counts,
    port,
    url,
    gossipAdvertised,
    attach: (appFetch, streams) => {
      fetch = appFetch;
      acceptor = streams;
    },
  };
}
