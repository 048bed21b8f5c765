/**
 * A ring of real node processes for replication tests: K `ringkv node` processes on
 * OS-chosen loopback ports, told the full member list through the authenticated
 * /internal/members route (as `ringkv up` does), and waited on until each sees the full ring.
 * Every process is stopped by PID in the test's teardown (process.ts).
 */
import { signRequest } from '@ringkv/node';
import { DEFAULT_SECRET, http, httpAgent, spawnNode, waitFor, type NodeProcess, type TestLike } from './process.js';

export interface RingOptions {
  readonly nodes: number;
  readonly n: number;
  readonly extraArgs?: readonly string[];
}

/** Tells `targets` the member list `members` and waits until each reports that ring size. */
export async function pushMembers(t: TestLike, targets: readonly NodeProcess[], members: readonly NodeProcess[]): Promise<void> {
  const agent = httpAgent(t);
  const body = Buffer.from(JSON.stringify({ members: members.map((m) => ({ id: m.id, address: m.url })) }));
  for (const node of targets) {
    const headers = { 'content-type': 'application/json', ...signRequest(DEFAULT_SECRET, 'test', '/internal/members', body, Date.now()) };
    const answer = await http(agent, 'POST', `${node.url}/internal/members`, { headers, body });
    if (answer.status !== 204) throw new Error(`${node.id} refused members: ${answer.status} ${answer.body.toString()}`);
  }
  for (const node of targets) {
    await waitFor(async () => {
      const status = await http(agent, 'GET', `${node.url}/admin/status`);
      return (status.json as { ringSize: number }).ringSize === members.length || undefined;
    }, 10_000, `${node.id} sees ${members.length} members`);
  }
}

/** Starts a converged ring of `nodes` processes named node1..nodeK. */
export async function startRing(t: TestLike, options: RingOptions): Promise<NodeProcess[]> {
  const nodes = await Promise.all(
    Array.from({ length: options.nodes }, (_, i) =>
      spawnNode(t, { id: `node${i + 1}`, n: options.n, logLevel: 'info', ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}) }),
    ),
  );
  await pushMembers(t, nodes, nodes);
  return nodes;
}

/** Restarts a stopped node on its old port and data dir, and gives it the member list again. */
export async function restartNode(t: TestLike, node: NodeProcess, ring: NodeProcess[], n: number): Promise<NodeProcess> {
  const again = await spawnNode(t, { id: node.id, dir: node.dir, port: node.port, n, logLevel: 'info' });
  const members = ring.map((m) => (m.id === node.id ? again : m));
  await pushMembers(t, [again], members);
  ring.splice(ring.indexOf(node), 1, again);
  return again;
}
