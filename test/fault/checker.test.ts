// The checker itself, on hand-made histories that must pass and histories that must fail.
import t from 'tap';
import { check, readYourWrites, type FinalKey, type HistoryEvent } from './checker.js';

const final = (entries: Record<string, { elements: string[]; replicas?: string[] }>) =>
  new Map<string, FinalKey>(Object.entries(entries).map(([key, v]) => [key, { elements: v.elements, replicas: v.replicas ?? ['same', 'same', 'same'] }]));

t.test('a clean history passes', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true },
    { type: 'add', key: 'k', element: 'b', ok: true },
    { type: 'read', key: 'k', siblings: 2 },
  ];
  const verdict = check(history, final({ k: { elements: ['a', 'b'] } }), 64);
  t.ok(verdict.ok);
  t.equal(verdict.acknowledged, 2);
});

t.test('a lost acknowledged add fails', async (t) => {
  const verdict = check([{ type: 'add', key: 'k', element: 'a', ok: true }], final({ k: { elements: [] } }), 64);
  t.notOk(verdict.ok);
  t.same(verdict.lost, ['k/a']);
});

t.test('a missing add that was not acknowledged is fine', async (t) => {
  t.ok(check([{ type: 'add', key: 'k', element: 'a', ok: false }], final({ k: { elements: [] } }), 64).ok);
});

t.test('a key deleted last, with no add during or after the delete, must read as not found', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true, startMs: 0, endMs: 10 },
    { type: 'delete', key: 'k', seen: ['a'], ok: true, startMs: 20, endMs: 30 },
  ];
  t.ok(check(history, final({ k: { elements: [] } }), 64).ok, 'gone: fine');
  t.equal(check(history, final({ k: { elements: [] } }), 64).deletedKeysChecked, 1);
  const back = check(history, final({ k: { elements: ['a'] } }), 64);
  t.notOk(back.ok, 'present again: a resurrection');
  t.same(back.resurrected, ['k/a']);
});

t.test('an add concurrent with the delete may legitimately survive it', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true, startMs: 0, endMs: 10 },
    { type: 'delete', key: 'k', seen: ['a'], ok: true, startMs: 20, endMs: 30 },
    { type: 'add', key: 'k', element: 'b', ok: true, startMs: 15, endMs: 25 },
  ];
  t.ok(check(history, final({ k: { elements: ['a', 'b'] } }), 64).ok);
});

t.test('a delete that did not see an add does not excuse losing it', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true },
    { type: 'delete', key: 'k', seen: [], ok: true },
  ];
  t.same(check(history, final({ k: { elements: [] } }), 64).lost, ['k/a']);
});

t.test('a failed delete makes its elements indeterminate both ways', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true },
    { type: 'delete', key: 'k', seen: ['a'], ok: false },
  ];
  t.ok(check(history, final({ k: { elements: [] } }), 64).ok);
  t.ok(check(history, final({ k: { elements: ['a'] } }), 64).ok);
});

t.test('replicas that disagree, and too many siblings, fail', async (t) => {
  const diverged = check([], final({ k: { elements: [], replicas: ['x', 'x', 'y'] } }), 64);
  t.same(diverged.unconverged, ['k']);
  t.notOk(diverged.ok);
  const siblings = check([{ type: 'read', key: 'k', siblings: 65 }], final({}), 64);
  t.same(siblings.siblingViolations, ['k: 65 siblings']);
  t.notOk(siblings.ok);
});

// Found by the cluster simulation (seeds reported as resurrections in its first 1,000-seed run):
// an add acknowledged after a delete's read but before the delete was sent is not covered by
// the delete's context, so it legitimately survives. The harnesses date a delete from the start
// of its read; dated from the delete call itself, the add looked finished before the delete and
// its survival looked like a resurrection.
t.test('regression: delete dated from its read (an add acknowledged between the read and the delete survives)', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true, startMs: 0, endMs: 5 },
    // the delete's read began at 10 and saw only 'a'; 'b' was acknowledged at 15; the delete was sent at 20
    { type: 'add', key: 'k', element: 'b', ok: true, startMs: 12, endMs: 15 },
    { type: 'delete', key: 'k', seen: ['a'], ok: true, startMs: 10, endMs: 30 },
  ];
  t.ok(check(history, final({ k: { elements: ['b'] } }), 64).ok, "b survives: the delete's context never covered it");
  const misdated: HistoryEvent[] = history.map((event) => (event.type === 'delete' ? { ...event, startMs: 20 } : event));
  // Before the rule below (a delete that missed an acknowledged add does not judge its key),
  // this misdated history was (wrongly) a resurrection; that rule now excuses it as well.
  t.ok(check(misdated, final({ k: { elements: ['b'] } }), 64).ok, 'dated from the delete call, the add its read missed still excuses b');
});

// Found by the cluster simulation with the membership nemesis (seed 241 on the sim-nemesis
// branch): after a join, a delete's read at R = 2 missed an acknowledged add (a read-your-writes
// miss). The delete's context did not cover that add's version, so it survived with every
// element it carried, including ones the delete had seen; the checker called them resurrected.
t.test('regression: a delete whose read missed an acknowledged add does not judge the key (the add survives with what it carried)', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true, startMs: 0, endMs: 5 },
    { type: 'add', key: 'k', element: 'b', ok: true, startMs: 6, endMs: 10 }, // wrote [a, b]
    { type: 'delete', key: 'k', seen: ['a'], ok: true, startMs: 20, endMs: 30 }, // its read missed b
  ];
  const verdict = check(history, final({ k: { elements: ['a', 'b'] } }), 64);
  t.ok(verdict.ok, 'a and b survive in the version the delete never saw');
  t.equal(verdict.deletedKeysChecked, 0);
  const seenAll: HistoryEvent[] = [history[0]!, history[1]!, { type: 'delete', key: 'k', seen: ['a', 'b'], ok: true, startMs: 20, endMs: 30 }];
  t.same(check(seenAll, final({ k: { elements: ['a', 'b'] } }), 64).resurrected, ['k/a', 'k/b'], 'a delete that saw both still judges the key');
  const coveredEarlier: HistoryEvent[] = [
    history[0]!,
    { type: 'delete', key: 'k', seen: ['a'], ok: true, startMs: 6, endMs: 8 },
    { type: 'add', key: 'k', element: 'b', ok: true, startMs: 9, endMs: 10 },
    { type: 'delete', key: 'k', seen: ['b'], ok: true, startMs: 20, endMs: 30 },
  ];
  t.same(check(coveredEarlier, final({ k: { elements: ['b'] } }), 64).resurrected, ['k/b'], 'an add an earlier delete covered need not be seen');
});

// Read-your-writes: a statistic, never a failure (sloppy quorums do not promise it).
t.test('read-your-writes: a read that began after an acknowledged add and lacks it is a miss', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true, startMs: 0, endMs: 10 },
    { type: 'read', key: 'k', siblings: 0, elements: [], startMs: 12, endMs: 14 },
    { type: 'read', key: 'k', siblings: 1, elements: ['a'], startMs: 15, endMs: 16 },
  ];
  const stats = readYourWrites(history);
  t.equal(stats.reads, 2);
  t.equal(stats.misses, 1);
  t.equal(stats.missRate, 0.5);
  t.equal(stats.examples.length, 1);
  t.match(stats.examples[0]!, /^k: read at 12-14 lacks a \(acknowledged at 10\)/);
  t.ok(check(history, final({ k: { elements: ['a'] } }), 64).ok, 'the miss does not fail the verdict');
});

t.test('read-your-writes: a read that began before the add was acknowledged is not a miss', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true, startMs: 0, endMs: 10 },
    { type: 'read', key: 'k', siblings: 0, elements: [], startMs: 9, endMs: 12 },
    { type: 'add', key: 'k', element: 'b', ok: false, startMs: 0, endMs: Infinity },
    { type: 'read', key: 'k', siblings: 1, elements: ['a'], startMs: 20, endMs: 22 },
  ];
  t.same(readYourWrites(history), { reads: 2, misses: 0, missRate: 0, examples: [] }, 'and an unacknowledged add is never required');
});

t.test('read-your-writes: a delete that saw the element, acknowledged or not, overlapping or in between, covers the miss', async (t) => {
  const add: HistoryEvent = { type: 'add', key: 'k', element: 'a', ok: true, startMs: 0, endMs: 10 };
  const read: HistoryEvent = { type: 'read', key: 'k', siblings: 0, elements: [], startMs: 30, endMs: 35 };
  const between: HistoryEvent = { type: 'delete', key: 'k', seen: ['a'], ok: true, startMs: 15, endMs: 20 };
  t.equal(readYourWrites([add, between, read]).misses, 0, 'acknowledged delete in between');
  const failed: HistoryEvent = { type: 'delete', key: 'k', seen: ['a'], ok: false, startMs: 15, endMs: 20 };
  t.equal(readYourWrites([add, failed, read]).misses, 0, 'a failed delete may have landed');
  const overlapping: HistoryEvent = { type: 'delete', key: 'k', seen: ['a'], ok: false, startMs: 33, endMs: Infinity };
  t.equal(readYourWrites([add, read, overlapping]).misses, 0, 'a delete overlapping the read');
  const blind: HistoryEvent = { type: 'delete', key: 'k', seen: [], ok: true, startMs: 15, endMs: 20 };
  t.equal(readYourWrites([add, blind, read]).misses, 1, 'a delete that did not see the element does not cover it');
  const later: HistoryEvent = { type: 'delete', key: 'k', seen: ['a'], ok: true, startMs: 40, endMs: 45 };
  t.equal(readYourWrites([add, read, later]).misses, 1, 'a delete after the read ended does not cover it');
  const otherKey: HistoryEvent = { type: 'delete', key: 'j', seen: ['a'], ok: true, startMs: 15, endMs: 20 };
  t.equal(readYourWrites([add, otherKey, read]).misses, 1, "another key's delete does not cover it");
});

t.test('read-your-writes: reads of older histories (no elements or times) are not judged', async (t) => {
  const history: HistoryEvent[] = [
    { type: 'add', key: 'k', element: 'a', ok: true, startMs: 0, endMs: 10 },
    { type: 'read', key: 'k', siblings: 0 },
  ];
  t.same(readYourWrites(history), { reads: 0, misses: 0, missRate: 0, examples: [] });
});
