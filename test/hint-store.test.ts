// The HintStore contract over its two implementations: SQLite (real file) and memory.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, SqliteStore, type Store } from '@ringkv/node';

const limits = { hintsPerOwnerMax: 3, hintBytesPerOwnerMax: 4096, siblingsMax: 64, clockEntriesMax: 64 };
let now = 1_000;

function object(counter: number, bytes = 1) {
  return {
    clock: [{ id: 'a~e', counter, timestampMs: counter }],
    siblings: [{ dot: { id: 'a~e', counter }, deleted: false, value: new Uint8Array(bytes).fill(counter % 256), contentType: 'x', timestampMs: counter }],
  };
}

const makers: Array<[string, (t: Test) => Store]> = [
  ['memory', () => new MemoryStore({ limits, nowMs: () => now })],
  [
    'sqlite',
    (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'ringkv-hints-'));
      const store = new SqliteStore({ dir, nodeId: 'n1', synchronous: 'full', integrityCheck: true, nowMs: () => now, hintLimits: limits });
      t.teardown(async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      });
      return store;
    },
  ],
];

for (const [name, make] of makers) {
  t.test(`${name}: add merges per (owner, key), take is oldest first, remove checks the sequence`, async (t) => {
    const { hints } = make(t);
    now = 1_000;
    await hints.add('o1', 'k1', object(1));
    await hints.add('o1', 'k2', object(2));
    await hints.add('o2', 'k1', object(3));
    await hints.add('o1', 'k1', object(4)); // merges into the first hint
    t.equal(hints.count(), 3);
    t.same(hints.owners().map((o) => [o.owner, o.count]).sort(), [['o1', 2], ['o2', 1]]);
    const taken = hints.take('o1', 10);
    t.same(taken.map((h) => h.key), ['k1', 'k2'], 'oldest first');
    t.same(taken[0]!.object.siblings.map((s) => s.dot.counter), [4], 'the merge kept the newer version (counter 4 covers 1)');
    await hints.add('o1', 'k2', object(5)); // k2 changes after it was taken
    t.equal(hints.remove(taken.map(({ id, seq }) => ({ id, seq }))), 1, 'only the unchanged hint is deleted');
    t.same(hints.take('o1', 10).map((h) => h.key), ['k2']);
  });

  t.test(`${name}: bounds per owner are coded errors; expiry drops old hints`, async (t) => {
    const { hints } = make(t);
    now = 5_000;
    for (let i = 0; i < 3; i++) await hints.add('o', `k${i}`, object(i + 1));
    await t.rejects(hints.add('o', 'k9', object(9)), { code: 'KV_ERR_HINTS_FULL' }, 'count bound');
    await hints.add('o', 'k0', object(10)); // merging into an existing hint is allowed
    await hints.add('other', 'k', object(1)); // bounds are per owner
    await t.rejects(hints.add('big', 'k', object(1, 5_000)), { code: 'KV_ERR_HINTS_FULL' }, 'byte bound');
    now = 9_000;
    await hints.add('o2', 'fresh', object(1));
    t.equal(hints.expire(8_000), 4, 'hints created before 8000 are dropped');
    t.same(hints.owners().map((o) => o.owner), ['o2']);
  });

  t.test(`${name}: issue 19.9: a newer write merged into a hint renews its age`, async (t) => {
    const { hints } = make(t);
    now = 1_000;
    await hints.add('o', 'k', object(1));
    now = 9_000;
    await hints.add('o', 'k', object(2)); // a newer write for the same owner and key
    t.equal(hints.expire(8_000), 0, 'the hint carries a write from 9000: not dropped at 8000');
    t.equal(hints.take('o', 10)[0]!.createdMs, 9_000);
  });
}
