/**
 * Who wants to hear when a key's local copy changes: the store's commit hook for watches
 * (docs/watch.md). A store calls `notify` with the keys of each batch it committed; a watch
 * (replication/key-watch.ts) registers one listener per key it is parked on and re-reads the
 * key when it fires. The registry only says "this key was committed here": what changed, and
 * whether a watcher cares, is decided by the re-read at r, so a listener that fires for a
 * write that changed nothing costs one read and nothing else.
 *
 * Listeners run synchronously inside the store's commit path, after the commit: they must be
 * cheap (schedule work, never do it) and a listener that throws is ignored, so a watcher can
 * never fail or delay a write.
 */

export type CommitListener = () => void;

export class KeyWatchers {
  private readonly byKey = new Map<string, Set<CommitListener>>();

  /** Calls `listener` after each commit of `key` until the returned function is called. */
  watch(key: string, listener: CommitListener): () => void {
    let set = this.byKey.get(key);
    if (set === undefined) this.byKey.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      const current = this.byKey.get(key);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) this.byKey.delete(key);
    };
  }

  /** Tells every listener of each committed key; one map lookup per key when nobody watches. */
  notify(keys: Iterable<string>): void {
    if (this.byKey.size === 0) return;
    for (const key of keys) {
      const set = this.byKey.get(key);
      if (set === undefined) continue;
      for (const listener of [...set]) {
        try {
          listener();
        } catch {
          // A watcher's failure must not fail the write that woke it (see the module comment).
        }
      }
    }
  }

  /** Keys with at least one listener (for tests and metrics). */
  get size(): number {
    return this.byKey.size;
  }
}
