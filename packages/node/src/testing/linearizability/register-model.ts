/**
 * The sequential specification of a register with read, write and compare-and-set (by value,
 * or by version: the number of sets applied so far): the model a linearizability search steps
 * through (Porcupine's `Model.Step`). Deterministic: an operation whose outcome is unknown is
 * taken as "took effect" here; "did not take effect" is the search leaving it out (see
 * search.ts), which is why an unknown read or a failed CAS of unknown outcome need no step.
 */
import type { Operation, RegisterValue } from './history.js';

/** The register: its value and, when the history observes it, its version (else always 0). */
export interface ModelState {
  readonly value: RegisterValue;
  readonly version: number;
}

/** True when some operation of `ops` reads or compares versions: only then are they tracked. */
export function observesVersions(ops: readonly Operation[]): boolean {
  return ops.some((op) => op.call.kind === 'cas-version' || (op.outcome.status === 'ok' && op.outcome.result.kind === 'read' && op.outcome.result.version !== undefined));
}

/**
 * The state after `op` when applied to `state`, or `undefined` when `op` cannot take effect
 * there with the result the client saw. `versions`: whether sets count versions.
 */
export function stepRegister(state: ModelState, op: Operation, versions: boolean): { next: ModelState } | undefined {
  const call = op.call;
  const o = op.outcome;
  if (o.status === 'failed') return undefined;
  const set = (value: string) => ({ next: { value, version: versions ? state.version + 1 : 0 } });
  if (call.kind === 'write') return set(call.value);
  if (call.kind === 'read') {
    if (o.status !== 'ok' || o.result.kind !== 'read') return undefined;
    const versionSeen = o.result.version;
    return o.result.value === state.value && (versionSeen === undefined || versionSeen === state.version) ? { next: state } : undefined;
  }
  const matches = call.kind === 'cas' ? state.value === call.expected : state.version === call.expected;
  if (o.status === 'unknown') return matches ? set(call.value) : undefined;
  if (o.result.kind !== 'cas') return undefined;
  if (o.result.ok) return matches ? set(call.value) : undefined;
  return matches ? undefined : { next: state };
}

/** A model state as a cache key part (absent and every string distinct). */
export function stateKey(state: ModelState): string {
  return `${state.version}${state.value === null ? '\u0000' : `=${state.value}`}`;
}
