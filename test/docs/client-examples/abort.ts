import { RingkvClient } from '@ringkv/client';

export async function abort(urls: string[]) {
  const kv = new RingkvClient({ urls });
  await kv.put('report', 'ready');
  // Give up on a read after 1 s, whatever the client's own timeout.
  const read = await kv.get('report', { signal: AbortSignal.timeout(1_000) });

  // Cancel a batch: the reads in flight are aborted, the call rejects with name 'AbortError'.
  const controller = new AbortController();
  const batch = kv.getMany(['a', 'b', 'c'], { signal: controller.signal });
  controller.abort();
  const cancelled = await batch.catch((error: Error & { code?: string }) => `${error.name} ${error.code}`);
  await kv.close();
  return { read: Buffer.from(read.value!).toString(), cancelled }; // cancelled: 'AbortError KV_ERR_ABORTED'
}
