// Regression test for issue 12's parallel local commit: the coordinator commits its own copy
// while the new version goes to the other replicas, so a dot can reach the peers and not its
// own row. Here the row's disk really fails: node1's file-size limit is lowered to one byte
// with prlimit (RLIMIT_FSIZE: every SQLite write past offset 0 fails with EFBIG; Node ignores
// SIGXFSZ), so its commits fail as on a full disk, while it keeps serving. Blind writes through
// node1 at w=2 are acknowledged by node2 and node3. The limit is lifted and node1 coordinates
// another blind write of each key. Without the lost-write rule (storage/store-life.ts: a failed
// commit gives the store a new epoch) that write reuses the row's actor with a higher counter,
// its clock claims the lost dot, and the replicas drop the acknowledged write; with it, every
// acknowledged value survives as a sibling (no write saw another). 3 real nodes, N = 3.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { http, httpAgent, waitFor } from '../helpers/process.js';
import { startRing } from '../helpers/ring.js';
import { sampleValue } from '../helpers/metrics.js';

t.setTimeout(240_000);

const KEYS = ['lost-a', 'lost-b', 'lost-c'];

t.test('issue-12 a write whose coordinator failed to commit it survives the coordinator\'s next write', { timeout: 200_000 }, async (t) => {
  // tap preloads a process-info hook into every child (signal-exit, which re-raises SIGXFSZ):
  // the node's own SIGXFSZ listener (main.ts) is what keeps it alive, as with any such preload.
  const ring = await startRing(t, { nodes: 3, n: 3 });
  const agent = httpAgent(t);
  const [node1, node2] = ring;
  const put = (key: string, value: string) => http(agent, 'PUT', `${node1!.url}/kv/${key}?w=2`, { body: value, headers: { 'content-type': 'text/plain' } });
  const failedCommits = async () => sampleValue((await http(agent, 'GET', `${node1!.url}/metrics`)).body.toString(), 'ringkv_store_failed_commits_total');

  for (const key of KEYS) t.equal((await put(key, `${key}=before`)).status, 204, `${key}: first write`);

  const limit = (soft: string) => execFileSync('prlimit', ['--pid', String(node1!.pid), `--fsize=${soft}:unlimited`], { stdio: 'pipe' });
  t.teardown(() => {
    try {
      limit('unlimited');
    } catch {
      // The process is gone already.
    }
  });
  const failedBefore = await failedCommits();
  limit('1');
  for (const key of KEYS) {
    const res = await put(key, `${key}=lost-locally`);
    t.equal(res.status, 204, `${key}: acknowledged by the two other replicas (${res.body.toString().slice(0, 200)})`);
  }
  t.ok((await failedCommits()) > failedBefore, 'node1\'s commits failed');
  limit('unlimited');

  for (const key of KEYS) t.equal((await put(key, `${key}=after`)).status, 204, `${key}: node1 writes again`);

  for (const key of KEYS) {
    // A read at r=3 merges every replica's copy and repairs; node1's copy catches up by it.
    const values = await waitFor(async () => {
      const read = await http(agent, 'GET', `${node2!.url}/kv/${key}?r=3`);
      if (read.status !== 300) return undefined;
      const found = (read.json as { siblings: Array<{ value?: string }> }).siblings.map((s) => Buffer.from(s.value ?? '', 'base64').toString()).sort();
      return found.length === 3 ? found : undefined;
    }, 30_000, `${key}: three siblings at r=3`).catch(async () => {
      const read = await http(agent, 'GET', `${node2!.url}/kv/${key}?r=3`);
      return [`status ${read.status}: ${read.body.toString().slice(0, 300)}`];
    });
    t.same(values, [`${key}=after`, `${key}=before`, `${key}=lost-locally`], `${key}: every acknowledged blind write survives`);
  }
});
