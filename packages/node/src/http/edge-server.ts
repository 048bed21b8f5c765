/**
 * The HTTP(S) server of the client port, with the bounds that keep one client from starving
 * the others (issue #18, docs/security.md "Resource limits"):
 *
 * - at most `connectionsMax` open connections; past it Node closes each new connection as soon
 *   as it is accepted (`server.maxConnections`), and the drop is counted;
 * - request headers (and, with TLS, the handshake) must arrive within `headersTimeoutMs`, and
 *   the server checks that every second instead of Node's default 30 s, so the bound holds
 *   to within a second against slowloris clients;
 * - a whole request must arrive within `requestTimeoutMs`.
 *
 * Plain HTTP sent to the TLS port is not served: the handshake fails and the connection closes.
 */
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ConnectionCounts } from '../metrics.js';
import { serverTlsOptions, type TlsMaterial } from '../access/tls-files.js';

export interface EdgeServerOptions {
  readonly connectionsMax: number;
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request (headers and body). */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  readonly keepAliveTimeoutMs: number;
  readonly tls?: TlsMaterial;
}

export interface EdgeServer {
  readonly server: Server;
  readonly scheme: 'http' | 'https';
  counts(): ConnectionCounts;
}

/** How often Node checks the header and request timeouts (its default is 30 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export function createEdgeServer(fetch: Hono['fetch'], options: EdgeServerOptions): EdgeServer {
  const httpOptions = {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const serverOptions = options.tls === undefined ? httpOptions : { ...httpOptions, ...serverTlsOptions(options.tls, options.headersTimeoutMs) };
  // The adapter's env ({ incoming, outgoing }) is passed on: the routes read bodies from it.
  const server = createAdaptorServer({
    fetch: (request: Request, env: unknown) => fetch(request, env),
    ...(options.tls === undefined ? {} : { createServer: createHttpsServer as never }),
    serverOptions,
  }) as Server;
  server.maxConnections = options.connectionsMax;
  let open = 0;
  let dropped = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
  });
  server.on('drop', () => dropped++);
  // A failed handshake (plain HTTP, a bad client certificate, a stalled client) only closes
  // that connection; without a listener Node would do the same, but say nothing to a test.
  server.on('tlsClientError', (_error: Error, socket: Socket) => socket.destroy());
  return { server, scheme: options.tls === undefined ? 'http' : 'https', counts: () => ({ open, dropped }) };
}
