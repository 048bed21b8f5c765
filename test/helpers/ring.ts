/**
 * A ring of real node processes for replication tests: K `ringkv node` processes on
 * OS-chosen loopback ports that find each other by SWIM gossip (node1 starts alone, the others
 * join through its gossip address, as `ringkv up` does), and are waited on until every node
 * sees every member alive. Every process is stopped by PID in the test's teardown (process.ts).
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Dispatcher } from 'undici';
import { buildRing, fallbacks, preferenceList, type RingMember } from '@ringkv/protocol';
import { http, httpAgent, spawnNode, waitFor, type NodeProcess, type TestLike } from './process.js';

export interface RingOptions {
  readonly nodes: number;
  readonly n: number;
  readonly extraArgs?: readonly string[];
  /** Arguments for node i (0-based) only, after extraArgs (a zone per node). */
  readonly argsOf?: (index: number) => readonly string[];
  /** Deadline for each node's "node started" (process.ts START_DEADLINE_MS by default). */
  readonly startDeadlineMs?: number;
}


/** The gossip address (host:port) a node logged at start-up. */
export function gossipAddressOf(node: NodeProcess): string {
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
  const extra = (index: number) => [...(options.extraArgs ?? []), ...(options.argsOf?.(index) ?? [])];
  const deadline = options.startDeadlineMs === undefined ? {} : { startDeadlineMs: options.startDeadlineMs };
  const first = await spawnNode(t, { id: 'node1', n: options.n, logLevel: 'info', extraArgs: extra(0), ...deadline });
  const seed = gossipAddressOf(first);
  const rest = await Promise.all(
    Array.from({ length: options.nodes - 1 }, (_, i) =>
      spawnNode(t, { id: `node${i + 2}`, n: options.n, logLevel: 'info', extraArgs: ['--seeds', seed, ...extra(i + 1)], ...deadline }),
    ),
  );
  const ring = [first, ...rest];
  await waitConverged(t, ring, ring.length);
  return ring;
}

/** Starts a new node `id` that joins `ring` through a live member, and waits until all see it. */
export async function joinNode(t: TestLike, ring: NodeProcess[], id: string, n: number, extraArgs: readonly string[] = [], options: RestartOptions & { dir?: string } = {}): Promise<NodeProcess> {
  const seed = gossipAddressOf(ring[0]!);
  const node = await spawnNode(t, {
    id,
    n,
    logLevel: 'info',
    extraArgs: ['--seeds', seed, ...extraArgs],
    ...(options.dir ? { dir: options.dir } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  ring.push(node);
  await waitConverged(t, ring, ring.length);
  return node;
}

/** Restarts a stopped node on its old ports and data dir; it rejoins through a live member. */
export async function restartNode(t: TestLike, node: NodeProcess, ring: NodeProcess[], n: number, extraArgs: readonly string[] = [], options: RestartOptions = {}): Promise<NodeProcess> {
  const again = await respawnNode(t, node, ring, n, extraArgs, options);
  ring.splice(ring.indexOf(node), 1, again);
  await waitConverged(t, ring, ring.length);
  return again;
}

export interface RestartOptions {
  /** Extra environment (libfaketime). */
  readonly env?: NodeJS.ProcessEnv;
  /** Deadline for "node started". */
  readonly startDeadlineMs?: number;
}

/**
 * Starts a stopped node again on its old ports, id and data dir, joining through a member of
 * `ring` other than itself, without waiting for the ring to converge (a test that expects the
 * ring to refuse it waits for something else).
 */
export async function respawnNode(t: TestLike, node: NodeProcess, ring: readonly NodeProcess[], n: number, extraArgs: readonly string[] = [], options: RestartOptions = {}): Promise<NodeProcess> {
  const seed = gossipAddressOf(ring.find((m) => m.id !== node.id)!);
  const gossipPort = gossipAddressOf(node).split(':').at(-1)!;
  const spawn = () =>
    spawnNode(t, {
      id: node.id,
      dir: node.dir,
      port: node.port,
      n,
      logLevel: 'info',
      extraArgs: ['--seeds', seed, '--gossip-port', gossipPort, ...extraArgs],
      ...(options.env ? { env: options.env } : {}),
      ...(options.startDeadlineMs ? { startDeadlineMs: options.startDeadlineMs } : {}),
    });
  // The old ports were the OS's pick from the ephemeral range: while the node was down, another
  // test's outgoing connection may have been given one of them. Such a connection is short-lived:
  // start again once the ports are free, within a deadline.
  const deadlineMs = Date.now() + PORTS_FREE_DEADLINE_MS;
  for (;;) {
    try {
      return await spawn();
    } catch (error) {
      if (!/EADDRINUSE/.test(String(error)) || Date.now() > deadlineMs) throw error;
      await waitFor(async () => (await portsFree(node.port, Number(gossipPort))) || undefined, Math.max(1, deadlineMs - Date.now()), `ports ${node.port} and ${gossipPort} free again`, 100);
    }
  }
}

/** How long a restart waits for its old ports to be released by whoever took them meanwhile. */
const PORTS_FREE_DEADLINE_MS = 30_000;

/** True when TCP `http` and TCP and UDP `gossip` can be bound on 127.0.0.1 now (closed again at once). */
async function portsFree(http: number, gossip: number): Promise<boolean> {
  const tcp = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  const udp = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
  return (await tcp(http)) && (await tcp(gossip)) && (await udp(gossip));
}

/** A member as GET /admin/members lists it. */
export interface MemberView {
  readonly id: string;
  readonly status: 'alive' | 'suspect' | 'dead' | 'left' | string;
  readonly address?: string;
}

/** What `node` says about every member it knows (GET /admin/members). */
export async function membersSeenBy(agent: Dispatcher, node: NodeProcess): Promise<MemberView[]> {
  return (await http(agent, 'GET', `${node.url}/admin/members`, { timeoutMs: 5_000 })).json as MemberView[];
}

/**
 * Waits until every node of `observers` reports member `id` with one of `statuses`
 * (`'absent'` stands for "not listed at all": a member forgotten after it left).
 */
export async function waitSeenAs(t: TestLike, observers: readonly NodeProcess[], id: string, statuses: readonly string[], deadlineMs = 30_000): Promise<void> {
  const agent = httpAgent(t);
  for (const node of observers) {
    await waitFor(async () => {
      const member = (await membersSeenBy(agent, node)).find((m) => m.id === id);
      return statuses.includes(member?.status ?? 'absent') || undefined;
    }, deadlineMs, `${node.id} sees ${id} as ${statuses.join(' or ')}`);
  }
}



/**
 * The first `count` keys `${prefix}0`, `${prefix}1`, … whose placement on a ring of `members`
 * (ids, or ids with zones; the nodes' own placement code, default tokens) satisfies `accept(preferenceList, fallbacks)`.
 * Throws if fewer than `count` are found among the first 100,000 candidates.
 */
export function keysWhere(members: ReadonlyArray<string | RingMember>, n: number, count: number, prefix: string, accept: (preference: string[], spare: string[]) => boolean): string[] {
  const ring = buildRing(members);
  const keys: string[] = [];
  for (let i = 0; i < 100_000 && keys.length < count; i++) {
    const key = `${prefix}${i}`;
    if (accept(preferenceList(ring, key, n), fallbacks(ring, key, n))) keys.push(key);
  }
  if (keys.length < count) throw new Error(`only ${keys.length} of ${count} keys named ${prefix}… have the wanted placement`);
  return keys;
}
