/**
 * Linearizability of ONE register's history: Wing & Gong's search (J. Parallel Distrib.
 * Comput., 1993) with Lowe's memoization ("Testing for linearizability", CCPE 2017): try to
 * linearize the earliest pending call; on reaching a return whose call is not yet linearized,
 * undo the last choice. A cache of (set of linearized operations, model state) prunes every
 * configuration already explored. This follows Porcupine's `checkSingle` (A. Athalye, 2017,
 * github.com/anishathalye/porcupine, `checker.go`): the entry list, lift/unlift and the cache
 * are the same; two things differ. Operations of unknown outcome get an infinite return time
 * and need not be linearized at all (leaving one out is "it never took effect"), and the
 * search has a step budget: past it the answer is `unknown`, never a hang.
 *
 * Pure and deterministic: same history, same answer, same explanation.
 */
import { observesVersions, stateKey, stepRegister, type ModelState } from './register-model.js';
import type { Operation, RegisterValue } from './history.js';

/** The result for one key. */
export type KeyVerdict =
  | { readonly kind: 'ok'; readonly steps: number }
  | { readonly kind: 'unknown'; readonly steps: number }
  | { readonly kind: 'violation'; readonly steps: number; readonly explanation: Explanation };

/**
 * Why a history is not linearizable: the longest prefix the search could linearize (operations
 * in linearization order, indexes into the history given) and the operation that had to
 * complete next but can be placed nowhere after that prefix.
 */
export interface Explanation {
  readonly prefix: readonly number[];
  readonly stuck: number;
  readonly stateAfterPrefix: ModelState;
}

interface Entry {
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** The default step budget: far above what the tests' histories need (a few thousand). */
export const STEPS_MAX_DEFAULT = 2_000_000;

/** Checks the operations of one register (all with the same key), starting from `initial`. */
export function checkRegister(ops: readonly Operation[], initial: RegisterValue = null, stepsMax = STEPS_MAX_DEFAULT): KeyVerdict {
  const kept = ops.map((op, i) => ({ op, i })).filter(({ op }) => op.outcome.status !== 'failed' && !(op.outcome.status === 'unknown' && op.call.kind === 'read'));
  const head = buildEntries(kept.map(({ op }) => op));
  const definite = kept.filter(({ op }) => op.outcome.status === 'ok').length;
  const search = new Search(kept.map(({ op }) => op), head, { value: initial, version: 0 }, definite, stepsMax);
  const verdict = search.run();
  if (verdict.kind !== 'violation') return verdict;
  // Map indexes back to the caller's history (reads of unknown outcome were left out).
  const back = (i: number) => kept[i]!.i;
  const e = verdict.explanation;
  return { ...verdict, explanation: { ...e, prefix: e.prefix.map(back), stuck: back(e.stuck) } };
}

/** The entry list: calls and returns by time; at equal times calls first (they overlap). */
function buildEntries(ops: readonly Operation[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, i) => {
    const call: Entry = { op: i, isCall: true, time: op.invokedAt, match: undefined, prev: undefined, next: undefined };
    const end = op.outcome.status === 'ok' ? op.outcome.completedAt : Number.POSITIVE_INFINITY;
    const ret: Entry = { op: i, isCall: false, time: end, match: undefined, prev: undefined, next: undefined };
    call.match = ret;
    entries.push(call, ret);
  });
  entries.sort((a, b) => a.time - b.time || Number(a.isCall ? 0 : 1) - Number(b.isCall ? 0 : 1) || a.op - b.op);
  const sentinel: Entry = { op: -1, isCall: false, time: Number.NEGATIVE_INFINITY, match: undefined, prev: undefined, next: undefined };
  let last = sentinel;
  for (const entry of entries) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return sentinel;
}

class Search {
  private readonly linearized: Uint32Array;
  private readonly cache = new Set<string>();
  private readonly stack: Array<{ entry: Entry; state: ModelState }> = [];
  private readonly versions: boolean;
  private state: ModelState;
  private done = 0;
  private steps = 0;
  private best: Explanation | undefined;

  constructor(
    private readonly ops: readonly Operation[],
    private readonly head: Entry,
    initial: ModelState,
    private readonly definite: number,
    private readonly stepsMax: number,
  ) {
    this.linearized = new Uint32Array(Math.ceil(ops.length / 32) + 1);
    this.state = initial;
    this.versions = observesVersions(ops);
  }

  run(): KeyVerdict {
    let entry = this.head.next;
    while (this.done < this.definite) {
      if (++this.steps > this.stepsMax) return { kind: 'unknown', steps: this.steps };
      // A return of a definite op always precedes the infinite ones, so the walk meets one
      // before it can run off the end while definite operations remain.
      if (entry === undefined) throw new Error('linearizability search ran off its entry list');
      if (entry.isCall) {
        entry = this.tryLinearize(entry) ? this.head.next : entry.next;
        continue;
      }
      this.remember(entry.op);
      const top = this.stack.pop();
      if (top === undefined) return { kind: 'violation', steps: this.steps, explanation: this.best! };
      this.undo(top);
      entry = top.entry.next;
    }
    return { kind: 'ok', steps: this.steps };
  }

  private tryLinearize(entry: Entry): boolean {
    const op = this.ops[entry.op]!;
    const stepped = stepRegister(this.state, op, this.versions);
    if (stepped === undefined) return false;
    this.flip(entry.op);
    const key = `${this.bitsKey()}|${stateKey(stepped.next)}`;
    if (this.cache.has(key)) {
      this.flip(entry.op);
      return false;
    }
    this.cache.add(key);
    this.stack.push({ entry, state: this.state });
    this.state = stepped.next;
    if (op.outcome.status === 'ok') this.done++;
    lift(entry);
    return true;
  }

  private undo(top: { entry: Entry; state: ModelState }): void {
    unlift(top.entry);
    this.flip(top.entry.op);
    if (this.ops[top.entry.op]!.outcome.status === 'ok') this.done--;
    this.state = top.state;
  }

  /** Keeps the deepest dead end seen: the most the search could explain before getting stuck. */
  private remember(stuck: number): void {
    if (this.best !== undefined && this.best.prefix.length >= this.stack.length) return;
    this.best = { prefix: this.stack.map((s) => s.entry.op), stuck, stateAfterPrefix: this.state };
  }

  private flip(op: number): void {
    this.linearized[op >>> 5]! ^= 1 << (op & 31);
  }

  private bitsKey(): string {
    let key = '';
    for (const word of this.linearized) key += String.fromCharCode(word & 0xffff, word >>> 16);
    return key;
  }
}

/** Takes a call and its return out of the list (Porcupine's `lift`). */
function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next !== undefined) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== undefined) ret.next.prev = ret.prev;
}

/** Puts them back, in reverse order (Porcupine's `unlift`). */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== undefined) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next !== undefined) call.next.prev = call;
}
