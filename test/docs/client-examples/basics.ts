import { RingkvClient } from '@ringkv/client';

export async function basics(urls: string[]) {
  const kv = new RingkvClient({
    urls, // any nodes of the ring; the client routes each key to its replicas and fails over
    timeoutMs: 2_000, // default per-call timeout
  });
  await kv.put('greeting', 'hello'); // a string is stored as text/plain; charset=utf-8
  const read = await kv.get('greeting', { r: 2 });
  const text = Buffer.from(read.value!).toString(); // 'hello'

  // Overwrite with the read's context: the new value supersedes the one read.
  await kv.put('greeting', new Uint8Array([104, 105]), { context: read.context, w: 2, contentType: 'text/plain' });
  // A strict write: 3 acks, all of them from the key's own replicas.
  await kv.put('greeting', 'hi all', { context: (await kv.get('greeting')).context, w: 3, pw: 3, sloppy: false });
  // A value that expires after a minute.
  await kv.put('session:9', 'token-data', { ttlMs: 60_000 });

  // Delete with the context of a read: a tombstone that supersedes what was read.
  const last = await kv.get('greeting');
  await kv.delete('greeting', { context: last.context });
  const gone = await kv.get('greeting'); // { found: false, siblings: [], context }
  await kv.close();
  return { text, last: Buffer.from(last.value!).toString(), found: gone.found };
}
