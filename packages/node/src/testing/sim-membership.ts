/**
 * Ring membership in the cluster simulation: what an operator and gossip do in production
 * (docs/healing.md "Ownership handoff"; Dynamo §4.8). The simulation holds the truth, the ring
 * an operator has asked for: members, and members that left or were removed (`left`, kept
 * until forgotten, so hints for them are redirected and the reaper waits). Each node runs on a
 * StaticMembership; it learns a new version of the truth with probability `learnRate` each
 * `sweepMs`, as gossip would spread it, so nodes disagree about the ring for a while: a
 * coordinator with an older ring forwards to a node that no longer owns the key, old owners
 * keep taking writes, a joined node coordinates keys the others still think they own.
 *
 * Ids are never reused: a wiped node that returns "as a new member" gets a new id. A removed
 * node that comes back anyway (a zombie) keeps the view it had when it died and is never told
 * the truth again. Removals, as in production (swim/precedence.ts REMOVED_INCARNATION), are
 * never forgotten: every node that learns the ring learns them, and refuses the removed id's
 * internal requests (ReplicaService), so a zombie's old data cannot re-enter the ring.
 */
import type { StaticMembership } from '../membership/static-membership.js';
import { SimNetwork } from './sim-network.js';
import type { SimClock } from './sim-clock.js';

/**
 * What the ring needs of a simulated node (sim-node.ts's SimNode has it). Named here, not
 * imported, because sim-node.ts imports this module (applyView): the ring must not import
 * its nodes back (test/architecture/import-cycles.test.ts).
 */
export interface RingNode {
  readonly id: string;
  readonly up: boolean;
  readonly state: 'running' | 'paused' | 'crashed' | 'stopped';
  readonly zombie: boolean;
  learn(view: readonly RingEntry[]): void;
}

/** What the ring needs of the simulated world (sim-node.ts's SimWorld has it). */
export interface RingWorld {
  readonly clock: SimClock;
  readonly random: () => number;
  readonly nodes: readonly RingNode[];
  readonly trace: (line: string) => void;
}

export interface RingOptions {
  readonly sweepMs: number;
  /** Chance per sweep that a node which is behind learns the current ring. */
  readonly learnRate: number;
}

/** One member of the truth: in the ring, or left (until forgotten). */
export interface RingEntry {
  readonly id: string;
  /** The member's zone ('' for none), as its --zone would say. */
  readonly zone: string;
  readonly left: boolean;
  /** Removed by an operator: permanent, never forgotten. */
  readonly removed?: boolean;
}

export class SimRing {
  /** Bumped by every change; a node that applied this version knows the current ring. */
  private version = 0;
  private entries: RingEntry[] = [];
  private readonly applied = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly world: RingWorld,
    private readonly options: RingOptions,
  ) {}

  /** Ids in the ring now (joined, not left). */
  members(): string[] {
    return this.entries.filter((e) => !e.left).map((e) => e.id);
  }

  /** Ids that left or were removed and are not yet forgotten (removed ones never are). */
  departed(): string[] {
    return this.entries.filter((e) => e.left && !e.removed).map((e) => e.id);
  }

  isMember(id: string): boolean {
    return this.entries.some((e) => e.id === id && !e.left);
  }

  /** The truth as a node would hold it (a copy). */
  view(): RingEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  private change(entries: RingEntry[], line: string): void {
    this.entries = entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.version++;
    this.world.trace(`ring ${line}: members ${this.members().join(',')}${this.departed().length > 0 ? `; left ${this.departed().join(',')}` : ''}`);
  }

  join(id: string, zone: string): void {
    this.change([...this.entries.filter((e) => e.id !== id), { id, zone, left: false }], `join ${id}${zone === '' ? '' : ` (${zone})`}`);
  }

  /** A graceful leave or an operator's remove: the member keeps its entry, marked left. */
  depart(id: string, how: 'leave' | 'remove'): void {
    this.change(this.entries.map((e) => (e.id === id ? { id, zone: e.zone, left: true, ...(how === 'remove' ? { removed: true } : {}) } : e)), `${how} ${id}`);
  }

  /** Forgets departed members (leftRetainMs passed): the ids disappear from every view. */
  forget(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.change(this.entries.filter((e) => e.removed === true || !ids.includes(e.id)), `forget ${ids.join(',')}`);
  }

  /** Tells `node` the current ring now (a node that starts, or one leaving, knows at once). */
  tell(node: RingNode): void {
    if (!node.up) return;
    node.learn(this.entries);
    this.applied.set(node.id, this.version);
  }

  /** `id` knows no version of the ring (it restarted alone): the sweep tells it by and by. */
  untold(id: string): void {
    this.applied.delete(id);
  }

  /** Spreads the ring: every `sweepMs`, each node that is behind learns it with `learnRate`. */
  start(): void {
    const sweep = () => {
      if (this.stopped) return;
      for (const node of this.world.nodes) {
        if (node.state !== 'running' || node.zombie || (this.applied.get(node.id) ?? -1) === this.version) continue;
        if (this.world.random() < this.options.learnRate) {
          this.tell(node);
          this.world.trace(`ring ${node.id} learns the ring`);
        }
      }
      this.world.clock.at(this.options.sweepMs, undefined, sweep);
    };
    this.world.clock.at(this.options.sweepMs, undefined, sweep);
  }

  /** Stops spreading and tells every running node (not a zombie) the ring (the final heal). */
  converge(): void {
    this.stopped = true;
    for (const node of this.world.nodes) if (!node.zombie) this.tell(node);
  }
}

/**
 * Sets a node's member list to `entries`: new members alive, departed ones `left`, forgotten
 * ones dropped; members it already had keep the status its failure detector gave them.
 */
export function applyView(membership: StaticMembership, entries: readonly RingEntry[]): void {
  const before = new Map(membership.members().map((m) => [m.id, m.status]));
  membership.replace(entries.map((e) => ({ id: e.id, address: SimNetwork.address(e.id), zone: e.zone })));
  for (const entry of entries) {
    if (entry.removed === true) membership.markRemoved(entry.id);
    if (entry.left) membership.setStatus(entry.id, 'left');
    else if (before.get(entry.id) === 'dead' && entry.id !== membership.selfId) membership.setStatus(entry.id, 'dead');
  }
}
