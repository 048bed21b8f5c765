/**
 * POST /admin/snapshot (admin token): an online, consistent copy of this node's database,
 * streamed as the response body (storage/snapshot.ts takes it). Bounded: one snapshot at a
 * time per node (a second is refused with 503 KV_ERR_OVERLOADED while the first is taken or
 * streamed); the temporary file lives in the data directory and is deleted when the stream
 * ends, fails, the client goes away (the server cancels the body stream then), or the client
 * reads nothing for SNAPSHOT_STALL_MS (60 s). A full disk
 * is 507 KV_ERR_STORAGE_FULL. Headers say whose database it is, when it was taken, and its
 * SHA-256, so the receiver can check what it got.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { Hono } from 'hono';
import { KvError } from '../errors.js';
import type { Store } from '../storage/store.js';
import type { SnapshotFile } from '../storage/snapshot.js';

/** Response headers of a snapshot. */
export const SNAPSHOT_HEADERS = { node: 'x-ringkv-snapshot-node', takenMs: 'x-ringkv-snapshot-taken-ms', sha256: 'x-ringkv-snapshot-sha256' } as const;

const CHUNK_BYTES = 256 * 1024;
/**
 * A client that stops reading (but keeps its connection) would hold the one snapshot slot and
 * the temporary file for ever: after this long without a read the stream is ended with an error.
 */
export const SNAPSHOT_STALL_MS = 60_000;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The file as a byte stream that calls `done` once, at its end, on an error, or on cancel. */
async function fileStream(path: string, done: () => void, stallMs: number): Promise<ReadableStream<Uint8Array>> {
  const handle = await open(path, 'r');
  let finished = false;
  let stall: NodeJS.Timeout | undefined;
  const finish = async () => {
    if (finished) return;
    finished = true;
    clearTimeout(stall);
    await handle.close().catch(() => undefined);
    done();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      clearTimeout(stall);
      stall = setTimeout(() => {
        controller.error(new KvError('KV_ERR_TIMEOUT', `the snapshot's client read nothing for ${stallMs} ms`));
        void finish();
      }, stallMs);
      stall.unref();
      try {
        const buffer = Buffer.alloc(CHUNK_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) {
          controller.close();
          await finish();
        } else {
          controller.enqueue(buffer.subarray(0, bytesRead));
        }
      } catch (error) {
        controller.error(error);
        await finish();
      }
    },
    cancel: finish,
  });
}

/** Registers POST /admin/snapshot over `store`. */
export function snapshotRoute(app: Hono, store: Pick<Store, 'snapshot'>, stallMs = SNAPSHOT_STALL_MS): void {
  let busy = false;
  app.post('/admin/snapshot', async (c) => {
    if (store.snapshot === undefined) throw new KvError('KV_ERR_BAD_REQUEST', 'this node\'s store cannot take snapshots');
    if (busy) throw new KvError('KV_ERR_OVERLOADED', 'a snapshot of this node is being taken or sent already; retry when it is done', { reason: 'snapshot in progress' });
    busy = true;
    let file: SnapshotFile | undefined;
    const release = () => {
      busy = false;
      if (file !== undefined) void rm(file.path, { force: true });
    };
    try {
      file = await store.snapshot();
      const sha256 = await sha256Of(file.path);
      const body = await fileStream(file.path, release, stallMs);
      return c.body(body, 200, {
        'content-type': 'application/vnd.sqlite3',
        'content-length': String(file.bytes),
        [SNAPSHOT_HEADERS.node]: file.nodeId,
        [SNAPSHOT_HEADERS.takenMs]: String(file.takenMs),
        [SNAPSHOT_HEADERS.sha256]: sha256,
      });
    } catch (error) {
      release();
      throw error;
    }
  });
}
