/**
 * `ringkv restore --from FILE --dir DIR [--tombstone-grace-ms MS]`: puts a snapshot in place
 * as the database of the stopped node whose data directory is DIR (storage/restore.ts: the
 * checks, what is kept, why the node gets a new epoch and why old snapshots are refused). Then
 * start the node and run `ringkv repair` against it: anti-entropy brings the writes made
 * after the snapshot (docs/operations.md).
 */
import { resolve } from 'node:path';
import { defaultConfig, restoreSnapshot } from '@ringkv/node';
import { intOption, parse, UsageError } from '../args.js';

export async function runRestore(argv: string[]): Promise<number> {
  const { values } = parse(argv, { from: { type: 'string' }, dir: { type: 'string' }, 'tombstone-grace-ms': { type: 'string' } });
  if (values.from === undefined || values.from === '') throw new UsageError('restore needs --from FILE');
  if (values.dir === undefined || values.dir === '') throw new UsageError('restore needs --dir DIR (the stopped node\'s data directory)');
  const tombstoneGraceMs = intOption(values['tombstone-grace-ms'], 'tombstone-grace-ms', defaultConfig.tombstoneGraceMs, 1_000, 365 * 86_400_000)!;
  const dir = resolve(values.dir);
  const result = restoreSnapshot({ from: resolve(values.from), dir, tombstoneGraceMs, nowMs: Date.now() });
  const s = result.snapshot;
  process.stdout.write(
    `restored ${s.nodeId} into ${dir}: ${s.keys} keys from a snapshot ${Math.round(result.ageMs / 1000)} s old` +
      `${result.movedAside === undefined ? '' : `; the old database is in ${result.movedAside}`}` +
      `${result.hintsDropped === 0 ? '' : `; ${result.hintsDropped} hint(s) dropped`}\n` +
      `next: start the node (it takes a new epoch), then run ringkv repair --url <its URL> to bring the writes made since the snapshot\n`,
  );
  return 0;
}
