/**
 * How long a node's store takes to open (the start-up a restart waits for) by what it holds:
 * fills a SqliteStore with `--keys` keys of `--value-bytes` bytes, stops it cleanly, then times
 * opens of it: after the clean stop (the digest tree is taken from the saved copy), and with the
 * saved copy removed (what an open after a crash does: the tree is rebuilt by a scan of the
 * table), each with and without the integrity check every node runs at start (`PRAGMA
 * quick_check`). With `--cold` (root, Linux) the page cache is dropped before each open, as
 * after a reboot.
 *
 *   tsx bench/store-open.ts [--keys 100000] [--value-bytes 200] [--cold] [--dir DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@ringkv/node';
import { update } from '@ringkv/node/testing';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: tsx bench/store-open.ts [--keys 100000] [--value-bytes 200] [--cold] [--dir DIR]\n\nTime to open a store after a clean stop (saved digest tree) and after a crash (tree rebuilt by a scan), with and without the start-up integrity check.`;

const { values } = benchArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    'value-bytes': { type: 'string', default: '200' },
    cold: { type: 'boolean', default: false },
    dir: { type: 'string' },
  },
}, USAGE);
const keys = Number(values.keys);
const valueBytes = Number(values['value-bytes']);
if (!(keys > 0) || !(valueBytes >= 0)) throw new Error(USAGE);
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'ringkv-store-open-'));
const limits = { siblingsMax: 8, clockEntriesMax: 8 };
const options = { dir, nodeId: 'node-a', synchronous: 'normal' as const, nowMs: Date.now };

try {
  const fill = new SqliteStore({ ...options, integrityCheck: false });
  const value = new Uint8Array(valueBytes).fill(7);
  for (let from = 0; from < keys; from += 1000) {
    const batch = [];
    for (let i = from; i < Math.min(keys, from + 1000); i++) {
      batch.push(fill.put(`key-${i}`, update(undefined, { coordinatorId: 'node-b', context: [], deleted: false, value, contentType: 'application/octet-stream', nowMs: Date.now() }, limits)));
    }
    await Promise.all(batch);
  }
  await fill.close();

  const dropCaches = () => {
    if (!values.cold) return;
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  };
  /**
   * A crash, as the next open sees it: a store opened and never closed (it took the saved tree
   * out and marked the stop unclean). It stays open, so the timed opens after it go without
   * the exclusive lock (`exclusive: false`, as tests do).
   */
  let crashed: SqliteStore | undefined;
  const crash = () => {
    crashed ??= new SqliteStore({ ...options, integrityCheck: false, exclusive: false });
  };
  console.log(`${keys} keys of ${valueBytes} bytes${values.cold ? ', page cache dropped before each open' : ''}, data in ${dir}\n`);
  console.log('| stopped | integrity check | tree from | open ms |\n|---|---|---|---:|');
  for (const stop of ['clean', 'crash'] as const) {
    for (const integrityCheck of [false, true]) {
      if (stop === 'crash') crash();
      dropCaches();
      const t0 = performance.now();
      const store = new SqliteStore({ ...options, integrityCheck, ...(stop === 'crash' ? { exclusive: false } : {}) });
      const ms = performance.now() - t0;
      // (A checkout from before the saved tree, run for the 'before' figures, has no treeSource: it always scanned.)
      const source = (store as { treeSource?: string }).treeSource ?? 'scan';
      if (store.keyCount() !== keys) throw new Error(`opened with ${store.keyCount()} keys, not ${keys}`);
      // After a crash the next open must not find a saved tree either: this one is not closed.
      if (stop === 'clean') await store.close();
      console.log(`| ${stop} | ${integrityCheck ? 'yes' : 'no'} | ${source} | ${ms.toFixed(0)} |`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
