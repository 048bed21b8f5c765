/**
 * The nemesis of the cluster simulation (Jepsen's word): every `intervalMs` (seeded) it
 * injects one fault, which heals itself after a seeded duration; faults overlap. Kinds: crash
 * and later restart a node (kill -9: its process state is gone, its disk stays); pause and
 * later resume one (SIGSTOP/SIGCONT); cut one or two nodes off from the rest, both ways or one
 * way only; a burst of message loss. At most `downMax` nodes are crashed or paused at once, so
 * quorums stay possible some of the time. `healAll` ends every fault at once.
 */
import type { NetworkOptions } from './sim-network.js';
import type { SimWorld } from './sim-node.js';

export interface NemesisOptions {
  readonly intervalMsMin: number;
  readonly intervalMsMax: number;
  readonly faultMsMin: number;
  readonly faultMsMax: number;
  readonly downMax: number;
}

export class Nemesis {
  /** Faults injected, by kind. */
  readonly faults: Record<string, number> = {};
  private partitioned = false;
  /** Set by healAll: heals still scheduled for earlier faults do nothing. */
  private over = false;

  constructor(
    private readonly world: SimWorld,
    /** The seed's usual network conditions, restored after a loss burst. */
    private readonly calm: NetworkOptions,
    private readonly options: NemesisOptions,
  ) {}

  private get clock() {
    return this.world.clock;
  }

  private get network() {
    return this.world.network;
  }

  private get nodes() {
    return this.world.nodes;
  }

  private random(): number {
    return this.world.random();
  }

  private between(min: number, max: number): number {
    return min + this.random() * (max - min);
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length)];
  }

  private later(label: string, action: () => void): void {
    this.clock.at(this.between(this.options.faultMsMin, this.options.faultMsMax), label, () => this.over || action());
  }

  private count(kind: string, detail: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
    this.world.trace(`nemesis ${kind} ${detail}`);
  }

  /** Injects faults until `untilMs`. */
  start(untilMs: number): void {
    const next = () => {
      if (this.over || this.clock.nowMs >= untilMs) return;
      this.inject();
      this.clock.at(this.between(this.options.intervalMsMin, this.options.intervalMsMax), undefined, next);
    };
    this.clock.at(this.between(this.options.intervalMsMin, this.options.intervalMsMax), undefined, next);
  }

  private inject(): void {
    const dice = this.random();
    const running = this.nodes.filter((node) => node.state === 'running');
    const down = this.nodes.length - running.length;
    const victim = down < this.options.downMax ? this.pick(running) : undefined;
    if (dice < 0.3 && victim !== undefined) {
      this.count('crash', victim.id);
      victim.crash();
      this.later(`restart ${victim.id}`, () => victim.state === 'crashed' && victim.start());
    } else if (dice < 0.5 && victim !== undefined) {
      this.count('pause', victim.id);
      victim.pause();
      this.later(`resume ${victim.id}`, () => victim.resume());
    } else if (dice < 0.85 && !this.partitioned) {
      this.partition();
    } else {
      this.count('loss', '');
      this.network.options = { ...this.network.options, lossRate: Math.max(this.network.options.lossRate, 0.2) };
      this.later('loss ends', () => (this.network.options = { ...this.network.options, lossRate: this.calm.lossRate }));
    }
  }

  /** Cuts one or two nodes off from the rest: both ways, or (a third of the time) one way. */
  private partition(): void {
    const shuffled = this.nodes.map((node) => ({ node, order: this.random() })).sort((a, b) => a.order - b.order).map((x) => x.node);
    const side = shuffled.slice(0, 1 + Math.floor(this.random() * 2));
    const rest = shuffled.slice(side.length);
    const oneWay = this.random() < 0.33;
    this.count(oneWay ? 'one-way-partition' : 'partition', `${side.map((n) => n.id).join(',')} | ${rest.map((n) => n.id).join(',')}`);
    for (const a of side) {
      for (const b of rest) {
        this.network.cut(a.id, b.id);
        if (!oneWay) this.network.cut(b.id, a.id);
      }
    }
    this.partitioned = true;
    this.later('partition heals', () => {
      this.network.healAll();
      this.partitioned = false;
    });
  }

  /** Ends every fault: restarts crashed nodes, resumes paused ones, heals the network, calm loss. */
  healAll(): void {
    this.over = true;
    for (const node of this.nodes) {
      if (node.state === 'crashed') node.start();
      else node.resume();
    }
    this.network.healAll();
    this.partitioned = false;
    this.network.options = { ...this.calm, lossRate: 0, duplicateRate: 0 };
    this.world.trace('nemesis heal all');
  }
}
