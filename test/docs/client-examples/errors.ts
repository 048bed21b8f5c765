import { OutcomeUnknownError, RingkvClient, RingkvError } from '@ringkv/client';

/** Writes, and says whether the write happened: 'written', 'not-written' or 'unknown'. */
export async function saveOrder(kv: RingkvClient, id: string, order: object): Promise<string> {
  try {
    await kv.putJson(`order:${id}`, order);
    return 'written';
  } catch (error) {
    if (error instanceof OutcomeUnknownError) return 'unknown'; // sent, no answer: read before retrying
    if (error instanceof RingkvError && error.mayHaveApplied) return 'unknown'; // e.g. a 504 from the node
    if (error instanceof RingkvError) return 'not-written'; // e.g. KV_ERR_UNREACHABLE, KV_ERR_BAD_QUORUM
    throw error;
  }
}

export async function errors(urls: string[], unreachableUrl: string) {
  const kv = new RingkvClient({ urls });
  const down = new RingkvClient({ urls: [unreachableUrl], timeoutMs: 500 });
  const outcomes = [await saveOrder(kv, '1', { total: 10 }), await saveOrder(down, '2', { total: 20 })];
  await Promise.all([kv.close(), down.close()]);
  return outcomes; // ['written', 'not-written']
}
