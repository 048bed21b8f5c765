/**
 * Linearizability of a whole history of registers: each key is checked alone, since a history
 * of independent objects is linearizable if and only if each object's sub-history is (Herlihy
 * & Wing 1990, "locality"; Horn & Kroening's P-compositionality, FORTE 2015, is the general
 * form Porcupine uses via `Model.Partition`). A key checked alone is small, which is what
 * keeps the search affordable.
 */
import { checkRegister, STEPS_MAX_DEFAULT, type Explanation } from './search.js';
import { describeOperation, type Operation } from './history.js';

/** The verdict for a history: the first violating key (in key order) wins over `unknown`. */
export type Verdict =
  | { readonly kind: 'ok'; readonly keys: number; readonly steps: number }
  | { readonly kind: 'unknown'; readonly keys: number; readonly steps: number; readonly unknownKeys: readonly string[] }
  | { readonly kind: 'violation'; readonly keys: number; readonly steps: number; readonly key: string; readonly explanation: Explanation; readonly report: string };

export interface CheckOptions {
  /** Search steps allowed per key before the key's answer is `unknown` (default 2,000,000). */
  readonly stepsMaxPerKey?: number;
}

/** Checks every key's sub-history; each key starts absent. */
export function checkLinearizable(history: readonly Operation[], options: CheckOptions = {}): Verdict {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  let steps = 0;
  const unknownKeys: string[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const ops = byKey.get(key)!;
    const verdict = checkRegister(ops, null, options.stepsMaxPerKey ?? STEPS_MAX_DEFAULT);
    steps += verdict.steps;
    if (verdict.kind === 'unknown') unknownKeys.push(key);
    if (verdict.kind === 'violation') {
      return { kind: 'violation', keys: byKey.size, steps, key, explanation: verdict.explanation, report: explain(ops, verdict.explanation) };
    }
  }
  if (unknownKeys.length > 0) return { kind: 'unknown', keys: byKey.size, steps, unknownKeys };
  return { kind: 'ok', keys: byKey.size, steps };
}

/** The explanation in words: the prefix that linearizes, then the operation that cannot follow. */
export function explain(ops: readonly Operation[], explanation: Explanation): string {
  const lines = explanation.prefix.map((i, n) => `  ${n + 1}. ${describeOperation(ops[i]!)}`);
  const after = explanation.stateAfterPrefix;
  const state = `${after.value === null ? 'absent' : `"${after.value}"`}${after.version > 0 ? ` at version ${after.version}` : ''}`;
  return [
    `longest linearizable prefix (${explanation.prefix.length} operations):`,
    ...lines,
    `register after it: ${state}`,
    `cannot be placed: ${describeOperation(ops[explanation.stuck]!)}`,
  ].join('\n');
}
