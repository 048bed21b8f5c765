import { RingkvClient } from '@ringkv/client';

export async function watch(urls: string[]) {
  const kv = new RingkvClient({ urls });
  await kv.put('door', 'closed');
  const { context } = await kv.get('door');
  await kv.put('door', 'open', { context });

  // Every state after what that read saw, each with its value(s) and context; the signal
  // (or a break) ends the loop quietly.
  const seen: string[] = [];
  for await (const change of kv.watch('door', { context, signal: AbortSignal.timeout(10_000) })) {
    seen.push(change.found ? Buffer.from(change.value!).toString() : '(deleted)');
    if (!change.found) break;
    await kv.delete('door', { context: change.context }); // the next state the watch sees
  }
  await kv.close();
  return seen; // ['open', '(deleted)']
}
