/** Generators of valid wire and disk values, the seeds the fuzzers mutate. */
import fc from 'fast-check';
import { update, type VersionedObject } from '@ringkv/node/testing';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };

export const idArb = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/);
export const keyArb = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.stringMatching(/^[a-z0-9/]{1,12}$/));

/** A valid object: the fold of a few writes by a few coordinators (siblings, tombstones, TTLs). */
export const objectArb: fc.Arbitrary<VersionedObject> = fc
  .array(
    fc.record({
      coordinatorId: fc.constantFrom('n1~1', 'n2~1', 'n3~7'),
      deleted: fc.boolean(),
      value: fc.uint8Array({ maxLength: 64 }),
      contentType: fc.constantFrom('', 'text/plain', 'application/json; charset=utf-8'),
      ttlMs: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
      superseding: fc.boolean(),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((writes) => {
    let object: VersionedObject | undefined;
    let nowMs = 1_700_000_000_000;
    for (const w of writes) {
      nowMs += 1_000;
      const context = w.superseding && object !== undefined ? object.clock.map(({ id, counter }) => ({ id, counter })) : [];
      object = update(object, { coordinatorId: w.coordinatorId, context, deleted: w.deleted, value: w.deleted ? new Uint8Array(0) : w.value, contentType: w.deleted ? '' : w.contentType, nowMs, ...(w.ttlMs === undefined ? {} : { ttlMs: w.ttlMs }) }, limits);
    }
    return object!;
  });
