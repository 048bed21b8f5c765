import { readFileSync } from 'node:fs';
import { RingkvClient } from '@ringkv/client';

/** A ring started with --tls-cert/--tls-key/--tls-ca and --auth-file. */
export async function secure(urls: string[], caFile: string, token: string) {
  const kv = new RingkvClient({
    urls, // https:// URLs
    ca: readFileSync(caFile), // the CA the nodes' certificates chain to (the ring's --tls-ca)
    token, // sent as Authorization: Bearer <token>; its sha256 is in the nodes' --auth-file
  });
  await kv.put('app/config', 'v1');
  const read = await kv.get('app/config');
  const denied = await kv.put('other/key', 'x').catch((error: { code: string }) => error.code);
  await kv.close();
  return { value: Buffer.from(read.value!).toString(), denied }; // denied: 'KV_ERR_FORBIDDEN'
}
