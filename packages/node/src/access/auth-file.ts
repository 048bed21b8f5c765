/**
 * The `--auth-file` on disk: loaded and validated at start-up (a bad file stops the node with
 * KV_ERR_CONFIG, exit 2), and reloaded on SIGHUP, where a bad file keeps the tokens in force
 * and the error is reported instead (docs/security.md "Client tokens").
 */
import { readFileSync, statSync } from 'node:fs';
import { KvError } from '../errors.js';
import { AUTH_FILE_BYTES_MAX, parseAuthFile, type TokenTable } from './client-tokens.js';

/** Reads and validates an auth file; missing, unreadable, oversize or invalid is KV_ERR_CONFIG. */
export function loadAuthFile(path: string): TokenTable {
  let text: string;
  try {
    // Size first: a path pointing at a huge file (or a device) is refused before reading.
    const { size, isFile } = ((stat) => ({ size: stat.size, isFile: stat.isFile() }))(statSync(path));
    if (!isFile) throw new Error('not a regular file');
    if (size > AUTH_FILE_BYTES_MAX) throw new Error(`larger than ${AUTH_FILE_BYTES_MAX} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KvError('KV_ERR_CONFIG', `cannot read the auth file ${path}: ${(error as Error).message}`, { field: 'authFile' });
  }
  try {
    return parseAuthFile(text);
  } catch (error) {
    if (error instanceof KvError) throw new KvError(error.code, `${path}: ${error.message}`, error.details);
    throw error;
  }
}

/** The tokens in force, from a file that can be reloaded while the node runs. */
export class AuthFile {
  private table: TokenTable;

  /** Loads `path` now; throws KV_ERR_CONFIG when it is not a valid auth file. */
  constructor(readonly path: string) {
    this.table = loadAuthFile(path);
  }

  get tokens(): TokenTable {
    return this.table;
  }

  /**
   * Re-reads the file. On success the new tokens apply to the next request; on failure the
   * old ones stay in force and the KV_ERR_CONFIG error is thrown for the caller to report.
   */
  reload(): number {
    this.table = loadAuthFile(this.path);
    return this.table.size;
  }
}
