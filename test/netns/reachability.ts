/**
 * The ground truth the availability figures are split by (issue 16, point 5): given what the
 * nemesis has done (which hosts' processes run, which links drop packets), could the node a
 * request was sent to (its coordinator) have met the request's quorum?
 *
 * Two hosts reach each other when both processes run (not killed, not SIGSTOPped) and neither
 * direction of their link drops packets: a request and its answer need both (over TCP even a
 * one-way loss breaks the connection). The model follows the server's placement rules
 * (replication/coordinator.ts, core/write-targets.ts): a read asks the key's N primaries and
 * needs R of them; a write (sloppy quorum, the default) keeps a copy on each reachable primary
 * and replaces each unreachable one with a reachable node past the preference list (never the
 * coordinating node itself), and needs W. A read is coordinated where it arrives, by any node
 * (it asks the primaries itself and never forwards: a client that got 503 from a node cut off
 * from the replicas retries another node, as the client library does for reads); a write at a
 * node outside the preference list is handed to one replica it can reach, which coordinates
 * it. So a read can meet its quorum when its coordinator can; a write when its coordinator
 * can, or one replica the coordinator reaches can. Membership's own view (who is
 * suspected) is deliberately not part of it: the acceptance asks the server to do as well as
 * the network allows, whatever gossip believes.
 *
 * Pure; tested in reachability.test.ts.
 */
import { fallbacks, preferenceList, type Ring } from '@ringkv/protocol';
import type { Link } from './firewall.js';

export interface World {
  /** Hosts whose node process runs and is not paused. */
  readonly up: ReadonlySet<string>;
  /** Dropped directed links, by node id: "node1>node2". */
  readonly cut: ReadonlySet<string>;
}

export function reaches(world: World, a: string, b: string): boolean {
  if (!world.up.has(a) || !world.up.has(b)) return false;
  return a === b || (!world.cut.has(`${a}>${b}`) && !world.cut.has(`${b}>${a}`));
}

export interface QuorumQuestion {
  readonly op: 'get' | 'put';
  readonly key: string;
  readonly coordinator: string;
  /** R for a get, W for a put. */
  readonly quorum: number;
  readonly n: number;
}

/** Whether node `x`, coordinating, can gather the quorum among the nodes it reaches. */
function meetsAt(world: World, ring: Ring, question: QuorumQuestion, x: string): boolean {
  const primaries = preferenceList(ring, question.key, question.n);
  const reachable = primaries.filter((p) => reaches(world, x, p)).length;
  if (question.op === 'get') return reachable >= question.quorum;
  const spare = fallbacks(ring, question.key, question.n).filter((f) => f !== x && reaches(world, x, f)).length;
  return reachable + Math.min(primaries.length - reachable, spare) >= question.quorum;
}

/** Could the request have met its quorum: at its coordinator, or (a write) one hop on? */
export function canMeetQuorum(world: World, ring: Ring, question: QuorumQuestion): boolean {
  const c = question.coordinator;
  if (!world.up.has(c)) return false;
  if (meetsAt(world, ring, question, c)) return true;
  if (question.op === 'get') return false; // reads are never forwarded
  const primaries = preferenceList(ring, question.key, question.n);
  if (primaries.includes(c)) return false; // a replica coordinates itself, it does not forward
  return primaries.some((p) => reaches(world, c, p) && meetsAt(world, ring, question, p));
}

/** Host-number links (firewall.ts) as node-id links. */
export function cutByIds(cut: ReadonlySet<Link>, idOf: (host: number) => string): Set<string> {
  return new Set([...cut].map((l) => l.split('>').map((h) => idOf(Number(h))).join('>')));
}
