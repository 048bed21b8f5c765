/**
 * Comparison helpers shared by the contract suites: objects in a form tap compares exactly,
 * and "this promise rejects with one of these codes".
 */
import type { Test } from 'tap';
import { KvError } from '@ringkv/node';
import type { VersionedObject } from '@ringkv/node/testing';

/** A plain value that compares exactly, values as hex (their type is checked separately). */
export function plain(object: VersionedObject | undefined): unknown {
  if (object === undefined) return undefined;
  return {
    clock: object.clock.map(({ id, counter, timestampMs }) => ({ id, counter, timestampMs })),
    siblings: object.siblings.map((s) => ({
      dot: { id: s.dot.id, counter: s.dot.counter },
      deleted: s.deleted,
      value: s.value instanceof Uint8Array ? Buffer.from(s.value).toString('hex') : `not a Uint8Array: ${typeof s.value}`,
      contentType: s.contentType,
      timestampMs: s.timestampMs,
    })),
  };
}

/** Awaits `promise` and checks that it rejected with a KvError carrying one of `codes`. */
export async function rejectsWith(t: Test, promise: Promise<unknown>, codes: readonly string[], what: string): Promise<KvError | undefined> {
  try {
    const value = await promise;
    t.fail(`${what}: expected a rejection with ${codes.join(' or ')}, got ${JSON.stringify(value)}`);
    return undefined;
  } catch (error) {
    t.ok(error instanceof KvError, `${what}: rejects with a KvError (got ${(error as Error)?.constructor?.name}: ${(error as Error)?.message})`);
    t.ok(codes.includes((error as KvError).code), `${what}: code ${(error as KvError).code} is one of ${codes.join(', ')}`);
    return error as KvError;
  }
}
