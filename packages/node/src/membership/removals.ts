/**
 * Removals kept on disk (issue 19.5). An operator's `remove` is permanent for that identity:
 * every member refuses the id forever (swim/precedence.ts REMOVED_INCARNATION). Gossip spreads
 * removals, but a ring restarted all at once would forget them, so each node keeps the ids it
 * learned in `<dataDir>/removed-members` (one id per line) and restores them at start.
 *
 * A node that learns it was removed itself writes `<dataDir>/removed` and stops; it refuses to
 * start on that directory again (a coded start-up failure), so its stale data cannot re-enter
 * the ring under its old id. To bring the machine back, start it under a new id with an empty
 * data directory.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNodeId } from '@ringkv/protocol';
import { KvError } from '../errors.js';

const LIST_FILE = 'removed-members';
const MARKER_FILE = 'removed';

/** The ids this node knows were removed (malformed lines are ignored). */
export function loadRemovals(dataDir: string): string[] {
  const path = join(dataDir, LIST_FILE);
  if (!existsSync(path)) return [];
  return [...new Set(readFileSync(path, 'utf8').split('\n').filter((line) => isNodeId(line)))];
}

/** Appends a removed id (durable enough: gossip re-teaches it while any member remembers). */
export function recordRemoval(dataDir: string, id: string): void {
  if (isNodeId(id)) appendFileSync(join(dataDir, LIST_FILE), `${id}\n`, { mode: 0o600 });
}

/** Marks the data directory as belonging to a removed identity. */
export function markSelfRemoved(dataDir: string, nodeId: string): void {
  writeFileSync(join(dataDir, MARKER_FILE), `${nodeId}\n`, { mode: 0o600 });
}

/** Refuses to start on the data directory of a removed identity. */
export function checkNotRemoved(dataDir: string, nodeId: string): void {
  if (existsSync(join(dataDir, MARKER_FILE))) {
    throw new KvError(
      'KV_ERR_DATA_DIR',
      `node "${nodeId}" was removed from the ring (${join(dataDir, MARKER_FILE)}); a removed identity never rejoins: start the machine under a new id with an empty data directory`,
      { dir: dataDir },
    );
  }
}
