/**
 * A debugging aid for a failing simulation seed: replays seed S and prints every version of
 * one key that any node's store commits (time, node, clock, siblings), and at the given times
 * every node's copy, hints and preference list for the key. Build first (the sim script does).
 *
 *   npx tsx test/sim/key-history.ts SEED KEY [T1,T2,...]   (times in simulated ms from the start)
 *
 * It wraps the built MemoryStore's `put`, so it sees what the nodes of @ringkv/node/testing
 * (the dist build) write; the run itself is the same as `pnpm sim --seed S`.
 */
import { ClusterSim, type VersionedObject } from '@ringkv/node/testing';
import { MemoryStore } from '../../packages/node/dist/storage/memory-store.js';

const [seedText, key, timesText = ''] = process.argv.slice(2);
if (seedText === undefined || key === undefined) {
  console.error('usage: npx tsx test/sim/key-history.ts SEED KEY [T1,T2,...]');
  process.exit(2);
}
const sim = new ClusterSim({ seed: Number(seedText), traceLines: 0 });
const startMs = sim.clock.nowMs;
const at = () => (sim.clock.nowMs - startMs).toFixed(2);
const actor = (id: string) => id.split('~')[0];
const show = (object: VersionedObject) =>
  `[${object.clock.map((e) => `${actor(e.id)}:${e.counter}`).join(',')}] ` +
  object.siblings.map((s) => `${actor(s.dot.id)}:${s.dot.counter}=${s.deleted ? 'DELETED' : Buffer.from(s.value).toString()}`).join(' | ');

const put = MemoryStore.prototype.put;
MemoryStore.prototype.put = function (this: MemoryStore, k: string, object: VersionedObject) {
  if (k === key) console.log(`${at()} ${sim.nodes.find((n) => n.disk === this)?.id ?? '(old disk)'} stores ${show(object)}`);
  return put.call(this, k, object);
};
for (const t of timesText.split(',').filter(Boolean).map(Number)) {
  sim.clock.at(t, undefined, () => {
    for (const node of sim.nodes) {
      const object = node.disk.get(key);
      console.log(`${at()} ${node.id} (${node.state}, clock ${node.clockOffsetMs >= 0 ? '+' : ''}${node.clockOffsetMs} ms, owners ${node.parts?.coordinator.preferenceList(key).join(',') ?? '-'}): ${object ? show(object) : 'nothing'}`);
      for (const { owner } of node.disk.hints.owners()) {
        for (const hint of node.disk.hints.take(owner, Number.MAX_SAFE_INTEGER)) if (hint.key === key) console.log(`    hint for ${owner}: ${show(hint.object)}`);
      }
    }
  });
}
const result = await sim.run();
console.log(`problems: ${result.problems.length === 0 ? 'none' : result.problems.join('; ')}`);
