/**
 * The value a CAS key holds inside Paxos, and the one rule that changes it. Following CASPaxos
 * (D. Rystsov, "CASPaxos: Replicated State Machines without logs", arXiv:1802.07000, 2018),
 * every round reads the current state from a promise quorum and proposes a function of it, so
 * the state is the whole register, not a log entry: a version counted in applied changes, and
 * the request ids of the last changes, which make a retried request apply at most once
 * (issue 17, point 3). Pure.
 */

import { CAS_RECENT_REQUEST_IDS } from '@ringkv/protocol';

/** Request ids remembered per key: a retry is recognised if fewer changes happened since (@ringkv/protocol, where the client reads it too). */
export const RECENT_REQUESTS_MAX = CAS_RECENT_REQUEST_IDS;

/** The register a CAS key holds: the state every Paxos round reads and proposes whole. */
export interface RegisterState<V> {
  /** `null` is absent (never written, or deleted through CAS). */
  readonly value: V | null;
  /** Applied changes so far: `if_version=V` compares with it. 0 for a key never changed. */
  readonly version: number;
  /** Request ids of the last changes, oldest first, at most RECENT_REQUESTS_MAX. */
  readonly recent: readonly string[];
}

/** The state of a key no round has changed yet: absent, version 0. */
export const EMPTY_REGISTER: RegisterState<never> = Object.freeze({ value: null, version: 0, recent: Object.freeze([]) as readonly string[] });

/** When a set applies: always, if absent (`if_absent=1`), at a version, or at a value. */
export type Condition<V> =
  | { readonly kind: 'always' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'version'; readonly version: number }
  | { readonly kind: 'value'; readonly value: V | null };

/** What a round does: a linearizable read, or a conditional set (`value: null` deletes). */
export type Change<V> =
  | { readonly kind: 'read' }
  | { readonly kind: 'set'; readonly value: V | null; readonly condition: Condition<V>; readonly requestId: string };

/** What the change makes of `state`: the state to propose and what the client will be told. */
export type Evaluation<V> =
  | { readonly kind: 'read'; readonly next: RegisterState<V> }
  | { readonly kind: 'applied'; readonly next: RegisterState<V> }
  | { readonly kind: 'precondition-failed'; readonly next: RegisterState<V> };

/** True when `change` (a set) was applied already: its request id is among the recent ones. */
export function alreadyApplied<V>(state: RegisterState<V>, change: Change<V>): boolean {
  return change.kind === 'set' && state.recent.includes(change.requestId);
}

/** Applies `change` to `state`; a read or a failed condition proposes the state unchanged. */
export function evaluate<V>(state: RegisterState<V>, change: Change<V>, equals: (a: V, b: V) => boolean): Evaluation<V> {
  if (change.kind === 'read') return { kind: 'read', next: state };
  if (alreadyApplied(state, change)) return { kind: 'applied', next: state };
  if (!holds(state, change.condition, equals)) return { kind: 'precondition-failed', next: state };
  const recent = [...state.recent, change.requestId].slice(-RECENT_REQUESTS_MAX);
  return { kind: 'applied', next: { value: change.value, version: state.version + 1, recent } };
}

function holds<V>(state: RegisterState<V>, condition: Condition<V>, equals: (a: V, b: V) => boolean): boolean {
  switch (condition.kind) {
    case 'always': return true;
    case 'absent': return state.value === null;
    case 'version': return state.version === condition.version;
    case 'value':
      if (condition.value === null || state.value === null) return condition.value === state.value;
      return equals(state.value, condition.value);
  }
}
