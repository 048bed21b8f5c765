/**
 * The composition root (STYLE.md §6): builds a node's parts from its config and wires them.
 * Nothing else constructs long-lived parts; each part gets only the narrow dependencies it
 * uses. `startNode` returns a handle with an idempotent graceful `close()` (stop taking
 * requests, let in-flight ones finish up to the grace period, commit and close the database)
 * and an abrupt `destroy()`.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import type { StatusBody } from '@ringkv/protocol';
import type { NodeConfig } from './config.js';
import { decodeContext, encodeContext } from './core/context-codec.js';
import { contextOf, type VersionedObject } from './core/versioned.js';
import { createApp } from './http/app.js';
import { LocalKv } from './replication/local-kv.js';
import { SqliteStore } from './storage/sqlite-store.js';
import type { Store } from './storage/store.js';

/** This package's version, reported by /admin/status. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface RingkvNode {
  readonly config: NodeConfig;
  /** Base URL of the HTTP API, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** Graceful stop; idempotent. */
  close(): Promise<void>;
  /** Abrupt stop: drop connections, close the database without waiting. Idempotent. */
  destroy(): void;
}

export interface NodeParts {
  /** Injected for tests; a SqliteStore under `config.dataDir` otherwise. */
  readonly store?: Store;
  readonly logger?: Logger;
  readonly nowMs?: () => number;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startNode(config: NodeConfig, parts: NodeParts = {}): Promise<RingkvNode> {
  const logger = parts.logger ?? pino({ level: config.logLevel, base: { nodeId: config.nodeId } });
  const nowMs = parts.nowMs ?? Date.now;
  const startedMs = nowMs();
  const store =
    parts.store ??
    new SqliteStore({
      dir: config.dataDir,
      nodeId: config.nodeId,
      synchronous: config.sqliteSynchronous,
      integrityCheck: config.integrityCheckOnStart,
      nowMs,
    });
  const limits = { siblingsMax: config.siblingsMax, clockEntriesMax: config.clockEntriesMax };
  const codec = { secret: config.secret, entriesMax: config.clockEntriesMax };
  let stopping = false;

  const status = (): StatusBody => ({
    nodeId: config.nodeId,
    pid: process.pid,
    version: VERSION,
    uptimeMs: nowMs() - startedMs,
    ringSize: 1,
    n: config.n,
    members: { alive: 1, suspect: 0, dead: 0, left: 0 },
    keys: store.keyCount(),
    storage: { engine: 'sqlite', synchronous: config.sqliteSynchronous },
  });

  const app = createApp({
    config,
    kv: new LocalKv({ nodeId: config.nodeId, store, limits, nowMs }),
    store,
    logger,
    contexts: {
      encode: (object: VersionedObject) => encodeContext(contextOf(object), codec),
      decode: (token: string) => decodeContext(token, codec),
    },
    status,
    isStopping: () => stopping,
  });

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 10_000; // a client that trickles its headers is cut off (slowloris)
  server.requestTimeout = Math.max(config.requestTimeoutMsMax + 5_000, 30_000);
  let port: number;
  try {
    port = await listen(server, config.httpPort, config.host);
  } catch (error) {
    await store.close();
    throw error;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, dataDir: config.dataDir, n: config.n }, 'node started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopping = true;
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      await drained;
      clearTimeout(grace);
      await store.close();
      logger.info('node stopped');
    })();
    return closing;
  };
  const destroy = (): void => {
    stopping = true;
    server.closeAllConnections();
    server.close();
    void store.close();
  };
  return { config, url, port, close, destroy };
}
