// Data types on a real 3-node ring under a crash (issue 15, acceptance): concurrent clients
// increment one counter and add to (and remove from) one set while node2 is killed by PID
// (SIGKILL, mid-load) and restarted on its data. After repair, read at r=3 from every node:
// the counter equals the acknowledged increments plus at most the indeterminate ones, and
// every acknowledged add that no acknowledged (or indeterminate) removal saw is present; the
// same per field of a map (the checks: test/fault/dt-checker.ts, shared with the multi-host tier).
import t from 'tap';
import { RingkvClient, RingkvError } from '@ringkv/client';
import { checkDataTypes, finalFromValues, type DtEvent } from '../fault/dt-checker.js';
import { killByPid, runCli, waitFor } from '../helpers/process.js';
import { restartNode, startRing } from '../helpers/ring.js';

const COUNTER_WORKERS = 4;
/** Each worker goes on until node2 is back and it did this many more, within its bound. */
const INCREMENTS_AFTER_RESTART = 15;
const INCREMENTS_PER_WORKER_MAX = 150;
const SET_WORKERS = 2;
const SET_OPS_PER_WORKER_MAX = 90;
const MAP_WORKERS = 2;
const MAP_OPS_PER_WORKER_MAX = 90;
const LOAD_DEADLINE_MS = 120_000;
const OP_TIMEOUT_MS = 3_000;

/** 'acked', 'failed' (surely not applied) or 'unknown' (may have been applied). */
function outcomeOf(error: unknown): 'failed' | 'unknown' {
  return error instanceof RingkvError && !error.mayHaveApplied ? 'failed' : 'unknown';
}

t.test('a counter, a set and a map keep every acknowledged write across a kill -9 and restart; ringkv dt', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 3, extraArgs: ['--anti-entropy-interval-ms', '1000'] });
  const client = new RingkvClient({ urls: ring.map((node) => node.url), timeoutMs: OP_TIMEOUT_MS });
  t.teardown(() => client.close());
  const started = Date.now();
  const inTime = () => Date.now() - started < LOAD_DEADLINE_MS;
  let restartedAt: number | undefined; // the op count of each worker is compared with it
  const goOn = (i: number, max: number, doneAfter: { at?: number }) => {
    if (restartedAt !== undefined && doneAfter.at === undefined) doneAfter.at = i;
    return i < max && inTime() && (doneAfter.at === undefined || i < doneAfter.at + INCREMENTS_AFTER_RESTART);
  };

  const counter = { acked: 0, unknown: 0, failed: 0 };
  const events: DtEvent[] = [];
  const counterWorker = async () => {
    const after = {};
    for (let i = 0; goOn(i, INCREMENTS_PER_WORKER_MAX, after); i++) {
      try {
        await client.counterIncrement('hits', 1);
        counter.acked++;
        events.push({ kind: 'counter', name: 'hits', by: 1, outcome: 'acked' });
      } catch (error) {
        counter[outcomeOf(error)]++;
        events.push({ kind: 'counter', name: 'hits', by: 1, outcome: outcomeOf(error) });
      }
    }
  };

  const added = new Set<string>();
  const addUnknown = new Set<string>();
  const removed = new Set<string>(); // acknowledged or indeterminate removals, each of an element its read saw
  const setWorker = async (w: number) => {
    const after = {};
    for (let j = 0; goOn(j, SET_OPS_PER_WORKER_MAX, after); j++) {
      const element = `w${w}-${j}`;
      try {
        await client.setAdd('members', [element]);
        added.add(element);
        events.push({ kind: 'add', name: 'members', element, outcome: 'acked' });
      } catch (error) {
        if (outcomeOf(error) === 'unknown') addUnknown.add(element);
        events.push({ kind: 'add', name: 'members', element, outcome: outcomeOf(error) });
      }
      if (j % 3 !== 2) continue;
      const victim = `w${w}-${j - 2}`;
      try {
        const read = await client.dtGet('members');
        if (read === undefined || !(read.value as string[]).includes(victim)) continue;
        removed.add(victim); // from here on it may be gone, whatever the answer
        await client.setRemove('members', [victim], { context: read.context }).then(
          () => events.push({ kind: 'remove', name: 'members', element: victim, outcome: 'acked' }),
          (error: unknown) => events.push({ kind: 'remove', name: 'members', element: victim, outcome: outcomeOf(error) }),
        );
      } catch {
        // A failed read removes nothing.
      }
    }
  };

  // Maps, per field: worker w increments field n<w> and adds to field s<w> in one operation.
  const mapFields = Array.from({ length: MAP_WORKERS }, () => ({ acked: 0, unknown: 0, added: new Set<string>(), addUnknown: new Set<string>() }));
  const mapWorker = async (w: number) => {
    const after = {};
    const mine = mapFields[w]!;
    for (let j = 0; goOn(j, MAP_OPS_PER_WORKER_MAX, after); j++) {
      const element = `m${w}-${j}`;
      try {
        await client.mapUpdate('profile', { update: { [`n${w}`]: { increment: 1 }, [`s${w}`]: { add: [element] } } });
        mine.acked++;
        mine.added.add(element);
        events.push({ kind: 'counter', name: `profile/n${w}`, by: 1, outcome: 'acked' }, { kind: 'add', name: `profile/s${w}`, element, outcome: 'acked' });
      } catch (error) {
        if (outcomeOf(error) === 'unknown') {
          mine.unknown++;
          mine.addUnknown.add(element);
        }
        events.push({ kind: 'counter', name: `profile/n${w}`, by: 1, outcome: outcomeOf(error) }, { kind: 'add', name: `profile/s${w}`, element, outcome: outcomeOf(error) });
      }
    }
  };

  const nemesis = async () => {
    await waitFor(() => counter.acked + counter.unknown >= 30 || !inTime(), LOAD_DEADLINE_MS, '30 increments before the kill');
    await killByPid(ring[1]!.pid);
    t.comment(`node2 killed after ${counter.acked} acknowledged increments`);
    await waitFor(() => counter.acked + counter.unknown >= 80 || !inTime(), LOAD_DEADLINE_MS, '50 increments with node2 down');
    await restartNode(t, ring[1]!, ring, 3, ['--anti-entropy-interval-ms', '1000']);
    restartedAt = counter.acked;
    t.comment(`node2 restarted after ${counter.acked} acknowledged increments`);
  };

  await Promise.all([
    ...Array.from({ length: COUNTER_WORKERS }, counterWorker),
    ...Array.from({ length: SET_WORKERS }, (_, w) => setWorker(w)),
    ...Array.from({ length: MAP_WORKERS }, (_, w) => mapWorker(w)),
    nemesis(),
  ]);
  t.comment(`map fields: ${JSON.stringify(mapFields.map((f) => [f.acked, f.unknown]))}`);
  t.comment(`counter: ${JSON.stringify(counter)}; set: ${added.size} adds acknowledged, ${addUnknown.size} unknown, ${removed.size} removed`);
  t.ok(restartedAt !== undefined && counter.acked > restartedAt, 'increments were acknowledged after the restart too');
  t.ok(counter.acked >= (counter.acked + counter.unknown + counter.failed) / 2, 'most increments were acknowledged');

  // Repair: reads at r=3 through every node (read repair) and anti-entropy, until they agree.
  const readers = ring.map((node) => new RingkvClient({ urls: [node.url], keyAware: false, timeoutMs: OP_TIMEOUT_MS }));
  t.teardown(() => Promise.all(readers.map((r) => r.close())));
  const finalReads = await waitFor(async () => {
    const reads = await Promise.all(readers.flatMap((reader) => [reader.dtGet('hits', { r: 3 }), reader.dtGet('members', { r: 3 }), reader.dtGet('profile', { r: 3 })]));
    const texts = new Set([0, 3, 6].map((i) => JSON.stringify([reads[i]?.value, reads[i + 1]?.value, reads[i + 2]?.value])));
    return texts.size === 1 ? reads : undefined;
  }, 60_000, 'every node to read the same counter and set at r=3');

  for (const [i, node] of ring.entries()) {
    const values = new Map<string, unknown>([['hits', finalReads[3 * i]?.value], ['members', finalReads[3 * i + 1]?.value], ['profile', finalReads[3 * i + 2]?.value]]);
    const verdict = checkDataTypes(events, finalFromValues(values));
    t.comment(`${node.id}: ${verdict.counters.map((c) => `${c.name} ${c.value} in [${c.low}, ${c.high}]`).join(', ')}`);
    t.same(verdict.drifted, [], `${node.id}: the counter and each map counter field are within [acknowledged, acknowledged + unknown]`);
    t.same(verdict.lost, [], `${node.id}: every acknowledged add not removed is present (set and map set fields)`);
    t.same(verdict.invented, [], `${node.id}: nothing present that no add (acknowledged or not) wrote`);
    t.same(verdict.resurrected, [], `${node.id}: no element an acknowledged removal saw came back`);
    t.ok(verdict.counters.some((c) => c.name === 'profile/n0') && verdict.counters.some((c) => c.name === 'hits'), `${node.id}: the counter and the map fields were judged`);
  }

  // The CLI on the same ring (a few calls only: each is a process start, about a second here).
  const cli = async (...args: string[]) => {
    const result = await runCli(t, ['dt', ...args, '--url', ring[0]!.url], 30_000);
    return { code: result.code, state: result.code === 0 ? (JSON.parse(result.stdout) as { type: string; value: unknown; context: string }) : undefined, stderr: result.stderr };
  };
  t.equal((await cli('get', 'hits', '--r', '3')).state?.value, finalReads[0]!.value, 'ringkv dt get reads the counter');
  t.same((await cli('incr', 'cli-counter', '-2')).state?.value, -2, 'ringkv dt incr with a negative amount subtracts');
  const cliAdded = await cli('add', 'cli-set', 'a', 'b');
  t.same(cliAdded.state?.value, ['a', 'b'], 'ringkv dt add');
  t.same((await cli('remove', 'cli-set', 'a', '--context', cliAdded.state!.context)).state?.value, ['b'], 'ringkv dt remove --context');
  const clash = await cli('add', 'hits', 'x');
  t.equal(clash.code, 1, 'a type clash is an operational error (exit 1)');
  t.match(clash.stderr, /KV_ERR_DT_TYPE_MISMATCH/);
  const bad = await cli('incr', 'hits', 'x');
  t.equal(bad.code, 64, 'a bad amount is a usage error (exit 64)');
  t.equal(bad.stderr.trim().split('\n').length, 1, 'in one line');
});
