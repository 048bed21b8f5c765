/**
 * `ringkv snapshot --out FILE [--url U]`: an online, consistent copy of one node's database.
 * The node takes it itself (POST /admin/snapshot, admin token: its SQLite file is locked
 * against every other process) and streams it; the CLI writes it to a temporary file beside
 * FILE, checks it (the SHA-256 the node sent, SQLite's integrity check, the ringkv schema and
 * node id), fsyncs it, and only then renames it to FILE: FILE is either a whole, checked
 * snapshot or untouched. Progress (bytes received) goes to stderr.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { request } from 'undici';
import { checkSnapshotFile, fsyncPath } from '@ringkv/node';
import { parse, UsageError } from '../args.js';
import { adminToken, authHeader, caCert, credentialOptions, dispatcherFor } from '../credentials.js';
import { nodeUrl } from '../output.js';
import { formatBytes, Progress } from '../progress.js';

/** Taking the backup and sending it may take this long before the CLI gives up. */
const SNAPSHOT_DEADLINE_MS = 3_600_000;

/** A coded CLI failure: printed as `CODE: message`, exit 1. */
function failure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export async function runSnapshot(argv: string[]): Promise<number> {
  const { values } = parse(argv, { url: { type: 'string' }, out: { type: 'string' }, ...credentialOptions });
  if (values.out === undefined || values.out === '') throw new UsageError('snapshot needs --out FILE');
  const out = resolve(values.out);
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.partial`);
  const url = nodeUrl(values);
  const token = adminToken(values);
  const dispatcher = dispatcherFor(caCert(values));
  const progress = new Progress(process.stderr, Date.now);
  try {
    progress.update(`snapshot: ${url} is copying its database…`);
    const response = await request(`${url}/admin/snapshot`, {
      method: 'POST',
      headers: authHeader(token),
      headersTimeout: SNAPSHOT_DEADLINE_MS,
      bodyTimeout: 60_000,
      ...(dispatcher ? { dispatcher } : {}),
    });
    if (response.statusCode !== 200) {
      progress.clear();
      const body = await response.body.text();
      process.stderr.write(`snapshot ${response.statusCode}: ${body}\n`);
      if (response.statusCode === 401 && token === undefined) process.stderr.write('no admin token found: pass --token, set RINGKV_ADMIN_TOKEN, or --dir with the ring\'s data directory\n');
      return 1;
    }
    const total = Number(response.headers['content-length'] ?? 0);
    const expected = String(response.headers['x-ringkv-snapshot-sha256'] ?? '');
    const hash = createHash('sha256');
    let received = 0;
    const file = createWriteStream(temp, { mode: 0o600 });
    try {
      for await (const chunk of response.body) {
        hash.update(chunk as Buffer);
        received += (chunk as Buffer).length;
        if (!file.write(chunk)) await new Promise<void>((resolve) => file.once('drain', () => resolve()));
        progress.update(`snapshot: ${formatBytes(received)} of ${formatBytes(total)} received`);
      }
      await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
    } catch (error) {
      file.destroy();
      throw error;
    }
    progress.done();
    if (hash.digest('hex') !== expected) throw failure('KV_ERR_STORAGE_CORRUPT', `the snapshot received (${received} bytes) does not match the SHA-256 the node sent`);
    const info = checkSnapshotFile(temp);
    fsyncPath(temp);
    renameSync(temp, out);
    fsyncPath(dirname(out));
    process.stdout.write(`snapshot of ${info.nodeId} (schema ${info.schemaVersion}, ${info.keys} keys, ${formatBytes(received)}, taken ${new Date(info.takenMs ?? 0).toISOString()}) written to ${out}\n`);
    return 0;
  } finally {
    progress.clear();
    rmSync(temp, { force: true });
    await dispatcher?.close();
  }
}
