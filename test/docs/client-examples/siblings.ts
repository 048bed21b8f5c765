import { RingkvClient, type Sibling } from '@ringkv/client';

/** A union of the JSON arrays of every live sibling. */
function union(siblings: readonly Sibling[]): string[] {
  const all = new Set<string>();
  for (const s of siblings) if (!s.deleted) for (const x of JSON.parse(Buffer.from(s.value).toString()) as string[]) all.add(x);
  return [...all].sort();
}

export async function siblings(urls: string[]) {
  const kv = new RingkvClient({ urls });
  // Two writes without a context are concurrent: both are kept, as siblings.
  await kv.putJson('tags', ['red']);
  await kv.putJson('tags', ['blue']);
  const raw = await kv.get('tags'); // raw.siblings.length === 2, raw.value === undefined
  const decoded = await kv.getJson<string[]>('tags'); // decoded.siblings[i].value is a string[]

  // get() with resolve: merged, written back with the context, and read again.
  const resolved = await kv.get('tags', { resolve: (s) => ({ value: JSON.stringify(union(s)), contentType: 'application/json' }) });
  await kv.close();
  return { before: raw.siblings.length, decoded: decoded.siblings.length, after: resolved.siblings.length, value: union(resolved.siblings) };
}
