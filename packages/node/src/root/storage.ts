/** The composition root's storage part: the node's SQLite store under its data directory. */
import type { Logger } from 'pino';
import type { NodeConfig } from '../config.js';
import { SqliteStore } from '../storage/sqlite-store.js';
import type { Store } from '../storage/store.js';

/**
 * Opens the store and says how long it took, how many keys it holds and where its digest tree
 * came from ('saved' by the last clean stop, or a 'scan' of the table): what a slow start-up
 * is made of (docs/storage.md, "Start-up").
 */
export function openStore(config: NodeConfig, nowMs: () => number, logger: Logger): Store {
  const t0 = performance.now();
  const store = new SqliteStore({
    dir: config.dataDir,
    nodeId: config.nodeId,
    synchronous: config.sqliteSynchronous,
    integrityCheck: config.integrityCheckOnStart,
    nowMs,
    hintLimits: {
      hintsPerOwnerMax: config.hintsPerOwnerMax,
      hintBytesPerOwnerMax: config.hintBytesPerOwnerMax,
      siblingsMax: config.siblingsMax,
      clockEntriesMax: config.clockEntriesMax,
    },
  });
  logger.info({ keys: store.keyCount(), digestTree: store.treeSource, integrityCheck: config.integrityCheckOnStart, openMs: Math.round(performance.now() - t0) }, 'store opened');
  return store;
}
