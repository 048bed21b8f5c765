/**
 * The failure detector of the cluster simulation. The nodes run on static member lists, so
 * this plays the part gossip plays in production: every `sweepMs` each running node compares
 * its view of every other node with the truth (the other is running and the link is up both
 * ways) and, where they differ, corrects it with probability `detectRate`, so detection takes
 * a seeded, geometric time and nodes disagree meanwhile. Now and then it wrongly marks a
 * healthy node dead (`falseDeathRate`, per pair and sweep), as a detector under load does;
 * that is undone by a later sweep. Statuses go through each node's own StaticMembership
 * (`setStatus`), which is what the coordinator reads.
 *
 * With membership changes (sim-membership.ts) it judges only the members the observer's own
 * list holds as in the ring: a member it does not know, or knows as left, is not its to judge.
 * A peer whose clock is outside gossip's window (`gossipSkewMs`: 5 minutes in production, ten
 * times the internal requests' window) is as unreachable as a cut one: its gossip is dropped.
 */
import type { StaticMembership } from '../membership/static-membership.js';
import type { SimWorld } from './sim-node.js';

export interface DetectorOptions {
  readonly sweepMs: number;
  /** Gossip's window: peers whose clocks differ by more do not see each other. */
  readonly gossipSkewMs: number;
  readonly detectRate: number;
  readonly falseDeathRate: number;
}

export class FailureDetector {
  private stopped = false;
  /** Status changes made, and how many of them were wrong deaths. */
  readonly counts = { flips: 0, falseDeaths: 0 };

  constructor(
    private readonly world: SimWorld,
    private readonly options: DetectorOptions,
  ) {}

  start(): void {
    const { clock } = this.world;
    const sweep = () => {
      if (this.stopped) return;
      this.sweep();
      clock.at(this.options.sweepMs, undefined, sweep);
    };
    clock.at(this.options.sweepMs, undefined, sweep);
  }

  private sweep(): void {
    const { nodes, network, random, trace } = this.world;
    for (const observer of nodes) {
      const membership = observer.parts?.staticMembership;
      if (observer.state !== 'running' || membership === undefined) continue;
      for (const target of nodes) {
        if (target === observer || !judges(membership, target.id)) continue;
        const skewed = Math.abs(observer.nowMs() - target.nowMs()) > this.options.gossipSkewMs;
        const truth = target.state === 'running' && !target.draining && !skewed && !network.isCut(observer.id, target.id) && !network.isCut(target.id, observer.id);
        const believed = membership.isReachable(target.id);
        if (truth !== believed && random() < this.options.detectRate) {
          membership.setStatus(target.id, truth ? 'alive' : 'dead');
          this.counts.flips++;
          trace(`detector ${observer.id} marks ${target.id} ${truth ? 'alive' : 'dead'}`);
        } else if (truth && believed && random() < this.options.falseDeathRate) {
          membership.setStatus(target.id, 'dead');
          this.counts.falseDeaths++;
          trace(`detector ${observer.id} wrongly marks ${target.id} dead`);
        }
      }
    }
  }

  /** Stops sweeping and tells every running node that every node is alive (after the heal). */
  stopAndMarkAllAlive(): void {
    this.stopped = true;
    const { nodes } = this.world;
    for (const observer of nodes) {
      const membership = observer.parts?.staticMembership;
      if (membership === undefined) continue;
      for (const target of nodes) if (target !== observer && judges(membership, target.id) && !membership.isReachable(target.id)) membership.setStatus(target.id, 'alive');
    }
  }
}

/** Whether the observer's list holds `id` as a ring member (not unknown, not left). */
function judges(membership: StaticMembership, id: string): boolean {
  const status = membership.member(id)?.status;
  return status !== undefined && status !== 'left';
}
