import { RingkvClient } from '@ringkv/client';

export async function listKeys(urls: string[]) {
  const kv = new RingkvClient({ urls });
  for (const id of [3, 1, 2]) await kv.put(`order:${id}`, `order ${id}`);
  const first = await kv.list({ prefix: 'order:', limit: 2 }); // one page
  const all: string[] = [];
  for await (const page of kv.listAll({ prefix: 'order:', limit: 2 })) all.push(...page.keys);
  await kv.close();
  return { first, all }; // first: { keys: ['order:1', 'order:2'], next: 'order:2' }
}
