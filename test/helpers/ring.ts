/**
 * A ring of real node processes for replication tests: K `ringkv node` processes on
 * OS-chosen loopback ports that find each other by SWIM gossip (node1 starts alone, the others
 * join through its gossip address, as `ringkv up` does), and are waited on until every node
 * sees every member alive. Every process is stopped by PID in the test's teardown (process.ts).
 */
import { http, httpAgent, spawnNode, waitFor, type NodeProcess, type TestLike } from './process.js';

export interface RingOptions {
  readonly nodes: number;
  readonly n: number;
  readonly extraArgs?: readonly string[];
}


function gossipAddressOf(node: NodeProcess): string {
  for (const line of node.logs.stdout) {
    if (!line.includes('"node started"')) continue;
    const address = (JSON.parse(line) as { gossipAddress?: string }).gossipAddress;
    if (address) return address;
  }
  throw new Error(`${node.id} logged no gossip address`);
}

/** Waits until each of `nodes` reports `size` ring members, all alive. */
export async function waitConverged(t: TestLike, nodes: readonly NodeProcess[], size: number, deadlineMs = 30_000): Promise<void> {
  const agent = httpAgent(t);
  for (const node of nodes) {
    await waitFor(async () => {
      const status = (await http(agent, 'GET', `${node.url}/admin/status`)).json as { ringSize: number; members: { alive: number } };
      return (status.ringSize === size && status.members.alive === size) || undefined;
    }, deadlineMs, `${node.id} sees ${size} members alive`);
  }
}

/** Starts a converged ring of `nodes` processes named node1..nodeK. */
export async function startRing(t: TestLike, options: RingOptions): Promise<NodeProcess[]> {
  const extra = options.extraArgs ?? [];
  const first = await spawnNode(t, { id: 'node1', n: options.n, logLevel: 'info', extraArgs: extra });
  const seed = gossipAddressOf(first);
  const rest = await Promise.all(
    Array.from({ length: options.nodes - 1 }, (_, i) =>
      spawnNode(t, { id: `node${i + 2}`, n: options.n, logLevel: 'info', extraArgs: ['--seeds', seed, ...extra] }),
    ),
  );
  const ring = [first, ...rest];
  await waitConverged(t, ring, ring.length);
  return ring;
}

/** Starts a new node `id` that joins `ring` through a live member, and waits until all see it. */
export async function joinNode(t: TestLike, ring: NodeProcess[], id: string, n: number, extraArgs: readonly string[] = []): Promise<NodeProcess> {
  const seed = gossipAddressOf(ring[0]!);
  const node = await spawnNode(t, { id, n, logLevel: 'info', extraArgs: ['--seeds', seed, ...extraArgs] });
  ring.push(node);
  await waitConverged(t, ring, ring.length);
  return node;
}

/** Restarts a stopped node on its old ports and data dir; it rejoins through a live member. */
export async function restartNode(t: TestLike, node: NodeProcess, ring: NodeProcess[], n: number, extraArgs: readonly string[] = []): Promise<NodeProcess> {
  const seed = gossipAddressOf(ring.find((m) => m !== node)!);
  const gossipPort = gossipAddressOf(node).split(':').at(-1)!;
  const again = await spawnNode(t, { id: node.id, dir: node.dir, port: node.port, n, logLevel: 'info', extraArgs: ['--seeds', seed, '--gossip-port', gossipPort, ...extraArgs] });
  ring.splice(ring.indexOf(node), 1, again);
  await waitConverged(t, ring, ring.length);
  return again;
}


