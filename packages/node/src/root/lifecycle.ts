/**
 * One lifecycle for a running node: an ordered list of stops drives both the graceful
 * `close()` (each awaited in turn, after the HTTP server and the peers' streams ended) and
 * the abrupt `destroy()` (each started at once). `drain()` precedes close() for SIGTERM.
 * Each is idempotent.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config.js';
import type { StreamAcceptor } from '../transport/stream-acceptor.js';

export type Stop = () => Promise<void> | undefined;

export interface LifecycleDeps {
  readonly config: NodeConfig;
  readonly server: Server;
  readonly acceptor: StreamAcceptor;
  readonly logger: Logger;
  /** Run first, synchronously, by every way of stopping (timers, the app's stopping flag). */
  readonly halt: () => void;
  /** The drain's first step: not ready, and peers told (gossip: announced dead). */
  readonly startDraining: () => void;
  /** What stops once the HTTP server and the streams have, in order. */
  readonly stops: readonly Stop[];
}

export interface Lifecycle {
  close(): Promise<void>;
  drain(): Promise<void>;
  destroy(): void;
}

export function lifecycle(deps: LifecycleDeps): Lifecycle {
  const { config, server, acceptor, logger } = deps;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    deps.halt();
    closing ??= (async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      // Upgraded sockets still count for server.close(): the streams must end too.
      await Promise.all([drained, acceptor.close(config.shutdownGraceMs)]);
      clearTimeout(grace);
      for (const stop of deps.stops) await stop();
      logger.info('node stopped');
    })();
    return closing;
  };
  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      if (closing === undefined) {
        deps.startDraining();
        logger.info({ drainMs: config.drainMs }, 'draining: not ready, peers told; serving what is already routed here, then stopping');
        // Not a synchronisation sleep: the drain period itself, during which peers that have
        // not yet heard the notice may still route requests here and have them served.
        await new Promise((resolve) => setTimeout(resolve, config.drainMs));
      }
      await close();
    })();
    return draining;
  };
  const destroy = (): void => {
    deps.halt();
    acceptor.destroy();
    server.closeAllConnections();
    server.close();
    for (const stop of deps.stops) void stop();
  };
  return { close, drain, destroy };
}
