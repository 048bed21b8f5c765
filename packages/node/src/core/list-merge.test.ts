// The listing's pure parts (docs/listing.md): the merge of replicas' answers and the coverage plan.
import t from 'tap';
import { arcs, buildRing } from '@ringkv/protocol';
import { mergePages } from './list-merge.js';
import { coveragePlan } from './coverage-plan.js';

t.test('mergePages: union, no duplicates, byte order, cut at the limit and where every answer is complete', async (t) => {
  t.same(mergePages([{ keys: ['a', 'c'], through: null }, { keys: ['b', 'c'], through: null }], 10), { keys: ['a', 'b', 'c'], next: null }, 'all complete');
  t.same(mergePages([{ keys: ['a', 'c'], through: null }, { keys: ['b', 'd'], through: null }], 3), { keys: ['a', 'b', 'c'], next: 'c' }, 'cut at the limit');
  t.same(mergePages([{ keys: ['a', 'b', 'c'], through: 'c' }, { keys: ['d', 'e'], through: null }], 10), { keys: ['a', 'b', 'c'], next: 'c' }, 'nothing past an answer that stopped at c');
  t.same(mergePages([{ keys: [], through: 'm' }, { keys: ['a', 'z'], through: null }], 10), { keys: ['a'], next: 'm' }, 'a short page resumes where the scan stopped');
  t.same(mergePages([{ keys: ['～'], through: null }, { keys: ['𝄞'], through: null }], 10), { keys: ['～', '𝄞'], next: null }, 'UTF-8 byte order, not UTF-16');
  t.same(mergePages([{ keys: ['a', 'b'], through: 'b' }], 2), { keys: ['a', 'b'], next: 'b' }, 'a full page with more to come');
});

t.test('coveragePlan: every arc at r usable owners, this node first, as few nodes as it can', async (t) => {
  const ring = buildRing(['n1', 'n2', 'n3', 'n4', 'n5'], 64);
  const all = arcs(ring, 3);
  const plan = coveragePlan(all, () => true, 'n1', 1);
  t.ok(plan.ok);
  if (!plan.ok) return;
  const covered = (r: number, asks: ReadonlyMap<string, ReadonlyArray<{ start: number; end: number }>>, usable: (id: string) => boolean) => {
    for (const arc of all) {
      const askedAt = [...asks].filter(([id, ranges]) => ranges.some((range) => range.start <= arc.start && arc.end <= range.end));
      if (askedAt.length !== r || askedAt.some(([id]) => !arc.owners.includes(id) || !usable(id))) return false;
    }
    return true;
  };
  t.ok(covered(1, plan.asks, () => true), 'each arc asked at exactly one of its owners');
  t.ok(plan.asks.size <= 3, `${plan.asks.size} nodes asked of 5`);
  t.same(plan.asks.get('n1'), [...plan.asks.get('n1')!].sort((a, b) => a.start - b.start), 'ranges in order');
  const self3 = coveragePlan(arcs(buildRing(['n1', 'n2', 'n3'], 64), 3), () => true, 'n2', 1);
  t.same(self3.ok ? [...self3.asks.keys()] : [], ['n2'], 'three nodes, N=3: this node alone holds every range');
  const down = (id: string) => id !== 'n1' && id !== 'n3';
  const two = coveragePlan(all, down, 'n1', 2);
  t.match(two, { ok: false, needed: 2 }, 'two owners of some arc down: r=2 cannot be met');
  const r2 = coveragePlan(all, (id) => id !== 'n4', 'n1', 2);
  t.ok(r2.ok && covered(2, r2.asks, (id) => id !== 'n4'), 'r=2 with n4 down: two usable owners per arc');
});
