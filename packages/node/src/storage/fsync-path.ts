/**
 * fsync of a file or a directory by path, synchronously: for the rare moments that must be
 * durable before going on (start-up markers, a restored or received snapshot and the rename
 * that put it in place), never on the request path (wal-sync.ts does that off the loop).
 */
import { closeSync, constants, fsyncSync, openSync } from 'node:fs';

export function fsyncPath(path: string): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
