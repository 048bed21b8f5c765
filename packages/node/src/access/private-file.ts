/**
 * Reading files that hold secrets (`--secret-file`, `--tls-key`): a file others on the machine
 * can read is refused, as ssh refuses a private key that others can read, because its secret is
 * already exposed. Group access is allowed (a service group is a common deployment choice).
 */
import { readFileSync, statSync } from 'node:fs';
import { KvError } from '../errors.js';

/** Largest secret file read: a secret, a key or a certificate chain is far smaller. */
export const PRIVATE_FILE_BYTES_MAX = 1024 * 1024;

/** Reads `path` for `field`; missing, unreadable, oversize or world-readable is KV_ERR_CONFIG. */
export function readPrivateFile(path: string, field: string): Buffer {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > PRIVATE_FILE_BYTES_MAX) throw new Error(`larger than ${PRIVATE_FILE_BYTES_MAX} bytes`);
    if ((stat.mode & 0o007) !== 0) throw new Error(`other users can access it (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 ${path}`);
    return readFileSync(path);
  } catch (error) {
    throw new KvError('KV_ERR_CONFIG', `cannot use ${path} (${field}): ${(error as Error).message}`, { field });
  }
}

/** Reads a public file (a certificate, a CA bundle) for `field`, under the same size bound. */
export function readPublicFile(path: string, field: string): Buffer {
  try {
    if (statSync(path).size > PRIVATE_FILE_BYTES_MAX) throw new Error(`larger than ${PRIVATE_FILE_BYTES_MAX} bytes`);
    return readFileSync(path);
  } catch (error) {
    throw new KvError('KV_ERR_CONFIG', `cannot read ${path} (${field}): ${(error as Error).message}`, { field });
  }
}
