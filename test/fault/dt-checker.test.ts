// The data-type checker on hand-made histories (issue 15): each anomaly it exists for must be
// reported, and the histories a correct store can produce must pass.
import t from 'tap';
import { checkDataTypes, counterBounds, finalFromValues, type DtEvent } from './dt-checker.js';

const inc = (by: number, outcome: DtEvent['outcome'], name = 'c'): DtEvent => ({ kind: 'counter', name, by, outcome });
const add = (element: string, outcome: DtEvent['outcome'], name = 's'): DtEvent => ({ kind: 'add', name, element, outcome });
const remove = (element: string, outcome: DtEvent['outcome'], name = 's'): DtEvent => ({ kind: 'remove', name, element, outcome });
const final = (values: Record<string, unknown>) => finalFromValues(new Map(Object.entries(values)));

t.test('counter bounds: acknowledged exactly, unknown at most once per sign, failed never', async (t) => {
  const events = [inc(5, 'acked'), inc(-2, 'acked'), inc(3, 'unknown'), inc(-4, 'unknown'), inc(100, 'failed')];
  t.same(counterBounds(events, 'c'), { low: -1, high: 6 });
  for (const value of [-1, 3, 6]) t.same(checkDataTypes(events, final({ c: value })).drifted, [], `${value} is within`);
  for (const value of [-2, 7, 103]) t.equal(checkDataTypes(events, final({ c: value })).drifted.length, 1, `${value} drifted (a lost, doubled or failed-but-applied change)`);
});

t.test('sets: lost adds, invented elements and resurrected removals are reported', async (t) => {
  const events = [add('a', 'acked'), add('b', 'acked'), add('c', 'unknown'), add('d', 'failed'), add('e', 'acked'), remove('b', 'acked'), remove('e', 'failed')];
  t.same(checkDataTypes(events, final({ s: ['a', 'e'] })), { counters: [], drifted: [], lost: [], invented: [], resurrected: [], acknowledged: 4, unknown: 1, failed: 2 }, 'a correct end state (c may or may not be there)');
  t.same(checkDataTypes(events, final({ s: ['a', 'c', 'e'] })).lost, [], 'an unknown add may land');
  t.same(checkDataTypes(events, final({ s: ['e'] })).lost, ['s:a'], 'an acknowledged add that no removal saw is lost');
  t.same(checkDataTypes(events, final({ s: ['a'] })).lost, ['s:e'], 'a failed removal removes nothing');
  t.same(checkDataTypes(events, final({ s: ['a', 'e', 'd', 'x'] })).invented, ['s:d', 's:x'], 'a failed add or a value never written is invented');
  t.same(checkDataTypes(events, final({ s: ['a', 'b', 'e'] })).resurrected, ['s:b'], 'an element an acknowledged removal saw came back');
  t.same(checkDataTypes(events, final({})).lost, ['s:a', 's:e'], 'a missing set loses every acknowledged add');
});

t.test('maps are judged per field, named key/field', async (t) => {
  const events = [inc(1, 'acked', 'm/n0'), inc(1, 'unknown', 'm/n0'), add('x', 'acked', 'm/s0'), inc(2, 'acked', 'm/n1')];
  const good = checkDataTypes(events, final({ m: { n0: 2, s0: ['x'], n1: 2 } }));
  t.same([good.drifted, good.lost, good.invented], [[], [], []]);
  const bad = checkDataTypes(events, final({ m: { n0: 3, s0: ['y'] } }));
  t.same(bad.drifted.map((c) => c.name), ['m/n0', 'm/n1'], 'each counter field has its own bounds (a missing field reads 0)');
  t.same([bad.lost, bad.invented], [['m/s0:x'], ['m/s0:y']], 'each set field its own elements');
});
