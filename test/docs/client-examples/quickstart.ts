import { RingkvClient } from '@ringkv/client';

export async function quickstart(urls: string[]) {
  const kv = new RingkvClient({ urls }); // e.g. ['http://127.0.0.1:7070', 'http://127.0.0.1:7071']
  await kv.putJson('cart:42', { items: ['apple'] });
  const cart = await kv.getJson<{ items: string[] }>('cart:42');
  // Read-modify-write: the write carries the read's context, so it supersedes what was read.
  await kv.update<{ items: string[] }>('cart:42', (current) => ({ items: [...(current?.items ?? []), 'pear'] }), {
    // Concurrent writers leave siblings: merge them, never pick one.
    resolver: (carts) => ({ items: [...new Set(carts.flatMap((c) => c.items))] }),
  });
  const after = await kv.getJson<{ items: string[] }>('cart:42');
  await kv.close();
  return { before: cart.value, after: after.value };
}
