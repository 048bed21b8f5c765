/**
 * The failure detector of the cluster simulation. The nodes run on static member lists, so
 * this plays the part gossip plays in production: every `sweepMs` each running node compares
 * its view of every other node with the truth (the other is running and the link is up both
 * ways) and, where they differ, corrects it with probability `detectRate`, so detection takes
 * a seeded, geometric time and nodes disagree meanwhile. Now and then it wrongly marks a
 * healthy node dead (`falseDeathRate`, per pair and sweep), as a detector under load does;
 * that is undone by a later sweep. Statuses go through each node's own StaticMembership
 * (`setStatus`), which is what the coordinator reads.
 */
import type { SimWorld } from './sim-node.js';

export interface DetectorOptions {
  readonly sweepMs: number;
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
        if (target === observer) continue;
        const truth = target.state === 'running' && !network.isCut(observer.id, target.id) && !network.isCut(target.id, observer.id);
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
      for (const target of nodes) if (target !== observer && !membership?.isReachable(target.id)) membership?.setStatus(target.id, 'alive');
    }
  }
}
