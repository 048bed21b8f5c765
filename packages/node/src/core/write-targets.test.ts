// Table-driven: write-target selection (sloppy quorum) and how pw judges the result (PutCore).
import t from 'tap';
import { writeTargets } from './write-targets.js';
import { PutCore } from './put-core.js';

const preferenceList = ['a', 'b', 'c'];
const fallbacks = ['d', 'e', 'x'];

const cases: Array<{ name: string; self: string; down: string[]; sloppy: boolean; targets: string }> = [
  { name: 'all primaries up', self: 'a', down: [], sloppy: true, targets: 'a b c' },
  { name: 'one primary down: the first reachable fallback stands in', self: 'a', down: ['b'], sloppy: true, targets: 'a d>b c' },
  { name: 'two down: fallbacks in ring order', self: 'a', down: ['b', 'c'], sloppy: true, targets: 'a d>b e>c' },
  { name: 'a down fallback is skipped', self: 'a', down: ['b', 'd'], sloppy: true, targets: 'a e>b c' },
  { name: 'strict quorum: a down primary stays a target', self: 'a', down: ['b'], sloppy: false, targets: 'a b c' },
  { name: 'the coordinator is never a fallback for another primary', self: 'd', down: ['b'], sloppy: true, targets: 'a e>b c' },
  { name: 'the coordinator counts as reachable for itself', self: 'b', down: ['b'], sloppy: true, targets: 'a b c' },
  { name: 'more primaries down than fallbacks up: the rest stay and fail', self: 'x', down: ['a', 'b', 'c', 'd'], sloppy: true, targets: 'e>a b c' },
];

for (const row of cases) {
  t.test(row.name, async (t) => {
    const down = new Set(row.down);
    const targets = writeTargets({ selfId: row.self, preferenceList, fallbacks, reachable: (id) => !down.has(id), sloppy: row.sloppy });
    t.equal(targets.map((target) => (target.node === target.owner ? target.node : `${target.node}>${target.owner}`)).join(' '), row.targets);
  });
}

const pwCases: Array<{ name: string; targets: string; w: number; pw: number; acks: string[]; outcome: string }> = [
  { name: 'pw met by primaries', targets: 'a b c', w: 2, pw: 2, acks: ['a', 'b'], outcome: 'met' },
  { name: "a fallback's ack counts toward w, never toward pw", targets: 'a d>b c', w: 3, pw: 3, acks: ['a', 'd', 'c'], outcome: 'failed' },
  { name: 'w met with a hint when pw is 0', targets: 'a d>b c', w: 3, pw: 0, acks: ['a', 'd', 'c'], outcome: 'met' },
  { name: 'pw 2 with a replaced primary: met by the other two', targets: 'a d>b c', w: 2, pw: 2, acks: ['a', 'c'], outcome: 'met' },
  { name: 'pw 3 with a replaced primary fails before any ack', targets: 'a d>b c', w: 1, pw: 3, acks: [], outcome: 'failed' },
  { name: 'pending until enough primaries', targets: 'a b c', w: 1, pw: 2, acks: ['a'], outcome: 'pending' },
];

for (const row of pwCases) {
  t.test(`PutCore: ${row.name}`, async (t) => {
    const targets = row.targets.split(' ').map((spec) => {
      const [node, owner] = spec.split('>');
      return { node: node!, owner: owner ?? node! };
    });
    const core = new PutCore(targets, row.w, row.pw);
    for (const node of row.acks) core.ack(node);
    t.equal(core.outcome(), row.outcome);
  });
}
