/** The composition root's storage part: the node's SQLite store under its data directory. */
import type { NodeConfig } from '../config.js';
import { SqliteStore } from '../storage/sqlite-store.js';
import type { Store } from '../storage/store.js';

export function openStore(config: NodeConfig, nowMs: () => number): Store {
  return new SqliteStore({
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
}
