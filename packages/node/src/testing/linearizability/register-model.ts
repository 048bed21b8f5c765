/**
 * The sequential specification of a register with read, write and compare-and-set: the model a
 * linearizability search steps through (Porcupine's `Model.Step`). Deterministic: an operation
 * whose outcome is unknown is taken as "took effect" here; "did not take effect" is the search
 * leaving it out (see search.ts), which is why an unknown read or a failed CAS of unknown
 * outcome need no step of their own.
 */
import type { Operation, RegisterValue } from './history.js';

/**
 * The state after `op` when applied to `state`, or `undefined` when `op` cannot take effect
 * there with the result the client saw.
 */
export function stepRegister(state: RegisterValue, op: Operation): { next: RegisterValue } | undefined {
  const call = op.call;
  const o = op.outcome;
  if (o.status === 'failed') return undefined;
  if (call.kind === 'write') return { next: call.value };
  if (call.kind === 'read') {
    if (o.status !== 'ok' || o.result.kind !== 'read') return undefined;
    return o.result.value === state ? { next: state } : undefined;
  }
  const matches = state === call.expected;
  if (o.status === 'unknown') return matches ? { next: call.value } : undefined;
  if (o.result.kind !== 'cas') return undefined;
  if (o.result.ok) return matches ? { next: call.value } : undefined;
  return matches ? undefined : { next: state };
}

/** A register state as a cache key part (absent and every string distinct). */
export function stateKey(state: RegisterValue): string {
  return state === null ? '\u0000' : `=${state}`;
}
