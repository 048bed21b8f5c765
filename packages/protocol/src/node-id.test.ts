// The one node-id definition (node-id.ts) and the TTL bound (ttl.ts): table-driven.
import t from 'tap';
import { isNodeId, NODE_ID_BYTES_MAX, NODE_ID_PATTERN } from './node-id.js';
import { TTL_MS_MAX } from './ttl.js';

t.test('node ids: 1 to 64 characters of A-Z a-z 0-9 . _ -', async (t) => {
  for (const good of ['a', 'node-1', 'n1.zone_a', 'A'.repeat(NODE_ID_BYTES_MAX)]) t.ok(isNodeId(good), JSON.stringify(good));
  for (const bad of ['', 'n'.repeat(NODE_ID_BYTES_MAX + 1), 'node a', 'node/a', 'nöde', 'a~b', 'a\n', 7, null, undefined, ['a']]) {
    t.notOk(isNodeId(bad), JSON.stringify(bad));
  }
  t.equal(NODE_ID_PATTERN.test('n'.repeat(64)), true);
  t.equal(NODE_ID_PATTERN.global, false, 'no lastIndex state: the shared pattern tests the same twice');
});

t.test('the TTL bound is ten years in ms', async (t) => {
  t.equal(TTL_MS_MAX, 315_360_000_000);
  t.ok(Number.isSafeInteger(TTL_MS_MAX * 30), 'an expiry far in the future stays a safe integer');
});
