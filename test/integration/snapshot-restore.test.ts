/**
 * Snapshot and restore on a real ring (issue 13, acceptance): three node processes, a bounded
 * writer recording every acknowledged write, a `ringkv snapshot` of node3 in the middle of the
 * load, node3 stopped and its data directory wiped, `ringkv restore`, node3 started again,
 * `ringkv repair`; then every acknowledged write is readable at R = N, and the three replicas'
 * own copies (/admin/local) of every written key are the same. On the way: the CLI's coded
 * failures (a snapshot without the admin token, a restore onto a running node's directory).
 */
import t from 'tap';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { encodeKey } from '@ringkv/client';
import { errorCode, http, httpAgent, runCli, stopByPid, tempDir, waitFor, type NodeProcess } from '../helpers/process.js';
import { restartNode, startRing } from '../helpers/ring.js';

const CLI_DEADLINE_MS = 60_000;
/** Bounds of the load: writes in all, and time. */
const WRITES_MAX = 400;
const LOAD_MS_MAX = 30_000;
/** Keys written many times without a context: every acknowledged value must stay a sibling. */
const HOT_KEYS = 5;

interface Ack {
  readonly key: string;
  readonly value: string;
}

/** Values a read at R = N returns for `key` (one, or every live sibling). */
async function readAll(agent: ReturnType<typeof httpAgent>, node: NodeProcess, key: string): Promise<string[]> {
  const answer = await http(agent, 'GET', `${node.url}/kv/${encodeKey(key)}?r=3`, { timeoutMs: 10_000 });
  if (answer.status === 200) return [answer.body.toString('utf8')];
  if (answer.status === 300) {
    const body = answer.json as { siblings: Array<{ value?: string; deleted?: boolean }> };
    return body.siblings.filter((s) => !s.deleted).map((s) => Buffer.from(s.value!, 'base64').toString('utf8'));
  }
  throw new Error(`GET ${key} at R=3: ${answer.status} ${answer.body.toString('utf8')}`);
}

/**
 * The writer: distinct keys and blind overwrites of hot keys, through every node given, three
 * at a time. Each phase writes at least `min` and at most `max` times (and for at most
 * LOAD_MS_MAX), going on past `min` until `more()` says stop.
 */
class Writer {
  readonly acks: Ack[] = [];
  private sent = 0;
  constructor(private readonly agent: ReturnType<typeof httpAgent>) {}

  async phase(nodes: readonly NodeProcess[], min: number, max: number, more: () => boolean = () => false): Promise<void> {
    const startedMs = Date.now();
    const first = this.sent;
    const worker = async (lane: number) => {
      while (this.sent - first < max && this.sent < WRITES_MAX && Date.now() - startedMs < LOAD_MS_MAX && (this.sent - first < min || more())) {
        const i = this.sent++;
        const key = i % 4 === 0 ? `hot-${i % HOT_KEYS}` : `key-${i}`;
        const value = `v${i}`;
        const node = nodes[(i + lane) % nodes.length]!;
        const answer = await http(this.agent, 'PUT', `${node.url}/kv/${key}?w=2`, { body: value, timeoutMs: 10_000 }).catch(() => undefined);
        if (answer?.status === 204) this.acks.push({ key, value });
      }
    };
    await Promise.all([0, 1, 2].map(worker));
  }
}

t.test('snapshot under load, wipe, restore, repair: every acknowledged write, converged replicas', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 3 });
  const agent = httpAgent(t);
  const out = join(await tempDir(t), 'node3.snapshot');
  const writer = new Writer(agent);
  const node3 = ring[2]!;

  await writer.phase(ring, 80, 80);
  const refused = await runCli(t, ['snapshot', '--out', out, '--url', node3.url, '--token', 'not-the-admin-token'], CLI_DEADLINE_MS);
  t.equal(refused.code, 1, 'a snapshot without the admin token fails with exit 1');
  t.match(refused.stderr, /KV_ERR_UNAUTHORIZED/, 'and the coded error');
  t.notOk(existsSync(out), 'and writes no file');

  // The snapshot is taken while the writer goes on (at least 40 writes, and until it is done).
  let snapshotDone = false;
  const during = writer.phase(ring, 40, 150, () => !snapshotDone);
  const snapshot = await runCli(t, ['snapshot', '--out', out, '--url', node3.url], CLI_DEADLINE_MS);
  snapshotDone = true;
  await during;
  t.equal(snapshot.code, 0, `ringkv snapshot succeeds under load (stderr: ${snapshot.stderr})`);
  t.match(snapshot.stdout, /snapshot of node3 \(schema \d+, \d+ keys/, 'and says what it wrote');
  t.ok(existsSync(out), 'the snapshot file exists');
  t.same(readdirSync(node3.dir).filter((name) => name.startsWith('snapshot-')), [], 'the node deleted its temporary copy');

  const running = await runCli(t, ['restore', '--from', out, '--dir', node3.dir], CLI_DEADLINE_MS);
  t.equal(running.code, 1, 'a restore onto a running node\'s directory fails with exit 1');
  t.match(running.stderr, /KV_ERR_DATA_DIR: .*locked: a node is running/, 'with the coded error');

  await writer.phase(ring, 40, 40); // after the snapshot, node3 up
  await stopByPid(node3.pid);
  rmSync(node3.dir, { recursive: true, force: true }); // the disk is lost
  await writer.phase(ring.slice(0, 2), 40, 40); // node3 down

  const restore = await runCli(t, ['restore', '--from', out, '--dir', node3.dir], CLI_DEADLINE_MS);
  t.equal(restore.code, 0, `ringkv restore succeeds on the stopped node's wiped directory (stderr: ${restore.stderr})`);
  const restoredKeys = Number(/: (\d+) keys from a snapshot/.exec(restore.stdout)?.[1] ?? -1);
  const keys = [...new Set(writer.acks.map((ack) => ack.key))];
  t.ok(restoredKeys >= 60, `the snapshot brought back node3's keys (${restoredKeys})`);
  t.ok(restoredKeys < keys.length, `and lacks the ${keys.length - restoredKeys} keys written after it`);

  const again = await restartNode(t, node3, ring, 3);
  t.ok(writer.acks.length >= 180, `writes were acknowledged around the snapshot (${writer.acks.length})`);

  const repair = await runCli(t, ['repair', '--url', again.url], CLI_DEADLINE_MS);
  t.equal(repair.code, 0, `ringkv repair succeeds (stderr: ${repair.stderr})`);
  t.match(repair.stdout, /^peer\s+result\s+compared\s+in\s+out/m, 'repair prints its table header');
  t.match(repair.stdout, /^node1\s+ok\s+\d+\s+\d+\s+\d+/m, 'a line for the exchange with node1');
  t.match(repair.stdout, /^node2\s+ok\s+\d+\s+\d+\s+\d+/m, 'a line for the exchange with node2');

  const lost: string[] = [];
  for (const ack of writer.acks) {
    const values = await readAll(agent, ring[ack.key.length % 3]!, ack.key);
    if (!values.includes(ack.value)) lost.push(`${ack.key}=${ack.value} (read ${values.join(',')})`);
  }
  t.same(lost, [], `every acknowledged write (${writer.acks.length}) is readable at R=3`);

  const differing = await waitFor(
    async () => {
      const diff: string[] = [];
      for (const key of keys) {
        const copies = await Promise.all(ring.map(async (node) => JSON.stringify((await http(agent, 'GET', `${node.url}/admin/local/${encodeKey(key)}`)).json)));
        if (new Set(copies).size !== 1) diff.push(key);
      }
      if (diff.length === 0) return [];
      await runCli(t, ['repair', '--url', again.url], CLI_DEADLINE_MS);
      return undefined;
    },
    90_000,
    'the three replicas of every written key to hold the same object',
    500,
  );
  t.same(differing, [], `node3's own copies match node1's and node2's for all ${keys.length} keys`);
  const local = await http(agent, 'GET', `${again.url}/admin/local/${encodeKey(keys[0]!)}`);
  t.equal(local.status, 200, 'the restored node holds the keys itself');
  t.equal(errorCode(local), undefined);
});
