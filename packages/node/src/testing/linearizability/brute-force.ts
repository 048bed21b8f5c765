/**
 * An independent, exponential check for SMALL histories (tests only): tries every order that
 * respects real time, with every subset of the unknown-outcome operations left out. It shares
 * only the register model with the search, so the two agreeing on random histories is
 * evidence that the search's pruning and bookkeeping are right.
 */
import assert from 'node:assert/strict';
import { observesVersions, stepRegister, type ModelState } from './register-model.js';
import type { Operation, RegisterValue } from './history.js';

/** The most operations per key it accepts (8! orders already take a while). */
export const BRUTE_FORCE_OPS_MAX = 9;

/** True when the one-key history `ops` is linearizable from `initial`. */
export function bruteForceLinearizable(ops: readonly Operation[], initial: RegisterValue = null): boolean {
  const kept = ops.filter((op) => op.outcome.status !== 'failed');
  assert.ok(kept.length <= BRUTE_FORCE_OPS_MAX, 'brute force is for small histories');
  const end = (op: Operation) => (op.outcome.status === 'ok' ? op.outcome.completedAt : Number.POSITIVE_INFINITY);
  const placed = new Array<boolean>(kept.length).fill(false);
  const versions = observesVersions(kept);
  const search = (state: ModelState): boolean => {
    const remaining = kept.filter((_, i) => !placed[i]);
    if (remaining.every((op) => op.outcome.status !== 'ok')) return true;
    // An op may go next only if no remaining op that must be placed completed before it began.
    const deadline = Math.min(...remaining.filter((op) => op.outcome.status === 'ok').map(end));
    for (let i = 0; i < kept.length; i++) {
      const op = kept[i]!;
      if (placed[i] || op.invokedAt > deadline) continue;
      const stepped = op.call.kind === 'read' && op.outcome.status === 'unknown' ? undefined : stepRegister(state, op, versions);
      if (stepped === undefined) continue;
      placed[i] = true;
      const found = search(stepped.next);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search({ value: initial, version: 0 });
}
