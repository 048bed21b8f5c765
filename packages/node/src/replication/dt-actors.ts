/**
 * Which actor this node writes a data type's next dot under (docs/datatypes.md, "Dots").
 *
 * A causal context entry `actor: n` claims its holder has seen every dot `actor` issued up to n
 * (a compact version vector). That holds only if an actor issues dot n+1 on a state that holds
 * its dot n: each actor's dots form one causal chain. A node cannot count on its read to hold
 * its own last write (a read at r may miss a replica; the write may have failed), so it keeps,
 * per key, the actor and the last dot it issued, and reuses the actor only when the state it
 * just read covers that dot; otherwise (never written here, forgotten, last write failed or not
 * seen) it takes a fresh random actor, whose chain starts empty. Writes of one key through one
 * node are serialised (dt-service.ts), so two of them never take the same dot.
 *
 * Actors live as long as this memory (bounded: least recently used keys are forgotten): each
 * fresh actor costs one context entry of the key, for good. The same trade as core/actor.ts
 * (one actor per local row) and riak_dt's per-vnode actors.
 *
 * Pure: randomness is injected; the memory is a bounded map.
 */
import { contains, emptyContext, maxCounter, type CausalContext, type Dot } from '@ringkv/protocol';

/**
 * Test-only switches that plant known data-type bugs, so the cluster simulation can show that
 * its data-type checker catches them (test/sim/dt-sim.test.ts). Nothing else sets them.
 * `actorReuse`: a node keeps writing a key under its actor even when the state it read does not
 * hold its last dot (and after a failed write), so it can issue a dot twice (what an actor kept
 * across a wiped disk would do): two increments under one dot count once.
 * `removeUnseen`: a removal ignores the client's context and removes every dot the node's read
 * holds, so a remove also removes adds its client never saw (dt-service.ts).
 */
export const dtPlantedBugs = { actorReuse: false, removeUnseen: false };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Characters of a fresh actor: 72 random bits, unique with overwhelming probability. */
export const DT_ACTOR_CHARS = 12;

export class DataTypeActors {
  private readonly last = new Map<string, Dot>();

  constructor(
    private readonly keysMax: number,
    private readonly random: () => number,
  ) {}

  /** The dot of the next write of `key` on a state with `context` (undefined: nothing read). */
  next(key: string, context: CausalContext | undefined): Dot {
    const last = this.last.get(key);
    if (dtPlantedBugs.actorReuse && last !== undefined) return { actor: last.actor, counter: maxCounter(context ?? emptyContext, last.actor) + 1 };
    if (last !== undefined && context !== undefined && contains(context, last)) {
      return { actor: last.actor, counter: maxCounter(context, last.actor) + 1 };
    }
    let actor = '';
    for (let i = 0; i < DT_ACTOR_CHARS; i++) actor += ALPHABET[Math.floor(this.random() * 64)];
    return { actor, counter: 1 };
  }

  /** The write under `dot` was acknowledged: the next may extend its chain. */
  written(key: string, dot: Dot): void {
    this.last.delete(key);
    this.last.set(key, dot);
    if (this.last.size > this.keysMax) this.last.delete(this.last.keys().next().value!);
  }

  /** The write failed or its outcome is unknown: the actor is retired for this key. */
  failed(key: string): void {
    if (dtPlantedBugs.actorReuse) return;
    this.last.delete(key);
  }

  /** Keys remembered (for tests). */
  get size(): number {
    return this.last.size;
  }
}
