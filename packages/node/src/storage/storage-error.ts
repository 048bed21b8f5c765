/**
 * What a failed SQLite call means to an operator or a client: one mapping from better-sqlite3's
 * error codes to coded errors, shared by the object store (sqlite-store.ts) and the hint store
 * (sqlite-hints.ts) so a full or damaged disk reads the same whichever table hit it.
 */
import { KvError } from '../errors.js';

/** Maps a better-sqlite3 error to the coded error an operator or client should see. */
export function storageError(error: unknown, action: string): KvError {
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_FULL') return new KvError('KV_ERR_STORAGE_FULL', `${action}: disk full`, { sqlite: code }, { cause: error });
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new KvError('KV_ERR_STORAGE_CORRUPT', `${action}: ${message}`, { sqlite: code }, { cause: error });
  }
  return new KvError('KV_ERR_STORAGE', `${action}: ${message}`, { sqlite: code }, { cause: error });
}
