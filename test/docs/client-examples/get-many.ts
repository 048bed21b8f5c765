import { RingkvClient } from '@ringkv/client';

export async function getMany(urls: string[]) {
  const kv = new RingkvClient({ urls });
  await kv.put('user:1', 'ada');
  await kv.put('user:2', 'grace');
  const entries = await kv.getMany(['user:1', 'user:2', 'user:3', ''], { concurrency: 4, r: 2 });
  const summary = entries.map((entry) =>
    entry.ok ? (entry.result.found ? Buffer.from(entry.result.value!).toString() : 'missing') : entry.error.code,
  );
  await kv.close();
  return summary; // ['ada', 'grace', 'missing', 'KV_ERR_BAD_KEY']
}
