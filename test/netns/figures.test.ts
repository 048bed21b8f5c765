// Availability figures and checks of the multi-host tier (figures.ts), on hand-made timelines.
import t from 'tap';
import { buildRing, preferenceList } from '@ringkv/protocol';
import { availabilityFailures, classify, figuresByLabel, phaseAt, type Classified } from './figures.js';
import type { Phase } from './nemesis.js';
import type { Sample } from './workload.js';

const ids = ['node1', 'node2', 'node3', 'node4', 'node5'];
const settings = { ring: buildRing(ids), n: 3, r: 2, w: 2 };
const key = 'set-1';
const [p1, p2] = preferenceList(settings.ring, key, 3) as [string, string];
const isolate = (id: string) => new Set(ids.filter((x) => x !== id).flatMap((x) => [`${x}>${id}`, `${id}>${x}`]));
const phases: Phase[] = [
  { atMs: 0, label: 'baseline', world: { up: new Set(ids), cut: new Set() } },
  { atMs: 1_000, label: 'isolated', world: { up: new Set(ids), cut: isolate(p1) } },
  { atMs: 10_000, label: 'healing', world: { up: new Set(ids), cut: new Set() } },
];
const sample = (coordinator: string, startMs: number, ms: number, status: number, op: Sample['op'] = 'get'): Sample => ({ op, key, coordinator, startMs, endMs: startMs + ms, status, ok: status < 300, ...(status >= 300 ? { code: status === 503 ? 'KV_ERR_QUORUM_UNMET' : 'KV_ERR_TIMEOUT' } : {}) });

t.test('samples are placed in the phase they started in, and classed by the ground truth', async (t) => {
  t.equal(phaseAt(phases, -5), 0);
  t.equal(phaseAt(phases, 1_000), 1);
  t.equal(phaseAt(phases, 10_000), 2);
  t.equal(classify(sample(p1, 2_000, 10, 503), phases, settings).cls, 'no-quorum');
  t.equal(classify(sample(p2, 2_000, 10, 200), phases, settings).cls, 'quorum');
  t.equal(classify(sample(p2, 9_500, 1_000, 200), phases, settings).cls, 'transition', 'the heal came mid-request');
  const changing: Phase[] = [phases[0]!, { ...phases[1]!, atMs: 500, changing: true }, phases[1]!];
  t.equal(classify(sample(p1, 600, 10, 200), changing, settings).cls, 'transition', 'started while the rules were being applied');
  t.equal(classify(sample(p2, 2_000, 10, 200), [...phases.slice(0, 1), { ...phases[1]!, world: { up: new Set(ids.filter((x) => x !== p2)), cut: new Set() } }], settings).cls, 'coordinator-down');
});

t.test('a 504 for a write handed to a replica the fault took just before is forward-caught, not a failure', async (t) => {
  const coordinator = ids.find((x) => x !== p1 && x !== p2)!;
  const caught = (startMs: number, forwardedTo: string, timeline: Phase[] = changing) => classify({ ...sample(coordinator, startMs, 500, 504, 'put'), forwardedTo }, timeline, settings);
  const changing: Phase[] = [phases[0]!, { ...phases[0]!, label: 'isolated', atMs: 900, changing: true }, ...phases.slice(1)];
  t.equal(caught(1_040, p1).cls, 'forward-caught', 'forwarded 40 ms after the cut was whole, to the replica it cut off');
  t.equal(caught(1_200, p1).cls, 'quorum', 'past the trust window: the forwarder should have known');
  t.equal(caught(1_040, p2).cls, 'quorum', 'the forward target is still reachable');
  t.equal(caught(1_040, p1, phases).cls, 'quorum', 'no change just before (no changing phase)');
  const already: Phase[] = [{ ...phases[1]!, atMs: 0 }, { ...phases[1]!, atMs: 900, changing: true }, phases[1]!];
  t.equal(caught(1_040, p1, already).cls, 'quorum', 'the target was cut off before the change too');
  const ok = classify({ ...sample(coordinator, 1_040, 10, 200, 'put') }, changing, settings);
  t.equal(ok.cls, 'quorum', 'only a 504 naming its target is caught');
  t.same(availabilityFailures('isolated', [caught(1_040, p1)], 0), [], 'left out of the checks');
  t.equal(figuresByLabel([caught(1_040, p1)], changing, 20_000).find((f) => f.label === 'isolated')!.classes['forward-caught']!.status504, 1, 'and counted');
});

t.test('the checks pass on a fast server and fail, with the numbers, on a slow one', async (t) => {
  const fast: Classified[] = [sample(p2, 2_000, 40, 200), sample(p1, 2_000, 30, 503)].map((s) => classify(s, phases, settings));
  t.same(availabilityFailures('isolated', fast, 0), []);
  const slow: Classified[] = [sample(p2, 2_000, 5_000, 504, 'put'), sample(p1, 2_100, 5_000, 504), sample(p1, 2_200, 1_200, 503)].map((s) => classify(s, phases, settings));
  const failures = availabilityFailures('isolated', slow, 0);
  t.equal(failures.length, 3, 'p99, a 504 where a quorum was reachable, and slow or wrong answers where none was');
  t.match(failures[0], /p99 5000 ms, limit 1000 ms/);
  t.match(failures[1], /1 × 504 of 1/);
  t.match(failures[2], /2 of 2 did not \(1 × 504 KV_ERR_TIMEOUT, 1 × 503 after ≥ 1 s/);
  const figures = figuresByLabel(slow, phases, 20_000);
  const isolated = figures.find((f) => f.label === 'isolated')!;
  t.equal(isolated.heldMs, 9_000);
  t.equal(isolated.classes['no-quorum']!.status503, 1);
  t.equal(isolated.classes['quorum']!.status504, 1);
});
