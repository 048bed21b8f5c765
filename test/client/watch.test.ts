/**
 * Watching a key on a real 3-node ring (N=3; issue 15.2, docs/watch.md): a watcher on node1 sees
 * a write made through node3 within a deadline; `ringkv watch --json` prints each change; a
 * watcher whose node is stopped and then killed by PID resumes on another node from its
 * context and sees the change made while nothing was parked anywhere.
 */
import t from 'tap';
import { RingkvClient, type WatchEvent } from '@ringkv/client';
import { startRing } from '../helpers/ring.js';
import { http, httpAgent, killByPid, spawnCli, waitFor, type NodeProcess } from '../helpers/process.js';

/** Generous: 2 shared cores; the measured figure is printed as a comment. */
const SEE_DEADLINE_MS = 5_000;
/** `promise`, or a rejection after `ms` (the timer is cleared either way: it must not keep the process alive). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
const text = (event: WatchEvent) => (event.value === undefined ? '' : Buffer.from(event.value).toString('utf8'));

t.test('watching a key on a 3-node ring', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 3 });
  const [node1, node2, node3] = ring as [NodeProcess, NodeProcess, NodeProcess];
  const agent = httpAgent(t);
  const parkedOn = async (node: NodeProcess): Promise<number> => {
    const answer = await http(agent, 'GET', `${node.url}/metrics`);
    return Number(/^ringkv_watchers_parked(?:{[^}]*})? (\d+)$/m.exec(answer.body.toString('utf8'))?.[1] ?? NaN);
  };
  const writer = new RingkvClient({ urls: [node3.url], keyAware: false, timeoutMs: 10_000 });
  t.teardown(() => writer.close());

  await t.test('a watcher on node1 sees a write made through node3', async (t) => {
    await writer.put('watch/a', 'v1');
    const first = await writer.get('watch/a');
    const watcher = new RingkvClient({ urls: [node1.url], keyAware: false, timeoutMs: 10_000 });
    const stop = new AbortController();
    t.teardown(async () => {
      stop.abort();
      await watcher.close();
    });
    const events = watcher.watch('watch/a', { signal: stop.signal, context: first.context! });
    const next = events.next();
    await waitFor(async () => (await parkedOn(node1)) === 1 || undefined, 10_000, 'the watch parked on node1');
    await writer.put('watch/a', 'v2', { context: first.context! });
    const acked = Date.now();
    const seen = await within(next, SEE_DEADLINE_MS, 'the change seen by node1\'s watcher');
    const latencyMs = Date.now() - acked;
    t.comment(`node1's watcher saw node3's write ${latencyMs} ms after its acknowledgement`);
    t.equal(seen.done, false);
    t.equal(text(seen.value as WatchEvent), 'v2');
    t.not((seen.value as WatchEvent).context, first.context, 'with the new context');
  });

  await t.test('ringkv watch --json prints each change', async (t) => {
    const cli = spawnCli(t, ['watch', 'watch/cli', '--url', node2.url, '--json', '--count', '2']);
    // Key-aware: the CLI's poll goes to any replica of the key (all three with N=3).
    const parkedOnRing = async () => (await Promise.all(ring.map(parkedOn))).reduce((a, b) => a + b, 0);
    await waitFor(async () => (await parkedOnRing()) === 1 || undefined, 15_000, 'the CLI watch parked');
    await writer.put('watch/cli', 'one');
    await waitFor(() => cli.logs.stdout.length >= 1 || undefined, 15_000, 'the first change printed');
    const context = (JSON.parse(cli.logs.stdout[0]!) as { context: string }).context;
    await writer.delete('watch/cli', { context });
    const code = await within(new Promise<number | null>((resolve) => (cli.child.exitCode !== null ? resolve(cli.child.exitCode) : cli.child.once('exit', (c) => resolve(c)))), 15_000, 'the CLI to exit');
    t.equal(code, 0, 'exits 0 after --count changes');
    const [one, two] = cli.logs.stdout.map((line) => JSON.parse(line) as { found: boolean; deleted: boolean; siblings: Array<{ value?: string }> });
    t.equal(Buffer.from(one!.siblings[0]!.value!, 'base64').toString('utf8'), 'one');
    t.same([two!.found, two!.deleted], [false, true], 'then the deletion');
  });

  await t.test('a watcher whose node dies resumes on another node from its context and sees the change made meanwhile', async (t) => {
    await writer.put('watch/b', 'before');
    const before = await writer.get('watch/b');
    // node1 first; then node2 (the client's failover order for these urls).
    const watcher = new RingkvClient({ urls: [node1.url, node2.url], keyAware: false, timeoutMs: 10_000 });
    const stop = new AbortController();
    t.teardown(async () => {
      stop.abort();
      await watcher.close();
    });
    const events = watcher.watch('watch/b', { signal: stop.signal, context: before.context!, pollTimeoutMs: 60_000 });
    const next = events.next();
    await waitFor(async () => (await parkedOn(node1)) === 1 || undefined, 10_000, 'the watch parked on node1');
    // node1 can no longer answer or hear the write: the change lands on node2 and node3 only.
    process.kill(node1.pid, 'SIGSTOP');
    const writer2 = new RingkvClient({ urls: [node2.url], keyAware: false, timeoutMs: 10_000 });
    t.teardown(() => writer2.close());
    await writer2.put('watch/b', 'meanwhile', { context: before.context!, w: 2 });
    await killByPid(node1.pid);
    const killed = Date.now();
    const seen = await within(next, 15_000, 'the change seen after the resume');
    t.comment(`resumed and saw the change ${Date.now() - killed} ms after node1 was killed`);
    t.equal(text(seen.value as WatchEvent), 'meanwhile');
  });
});
