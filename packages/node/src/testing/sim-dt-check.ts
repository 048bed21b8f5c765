/**
 * The verdict on a data-type workload's history (sim-dt-workload.ts) against the values read
 * after the heal: the issue 15 acceptance, per counter, set and map field.
 *
 * - A counter (or a map's counter field) ends at the sum of its acknowledged deltas plus some
 *   subset of its unknown ones: within [acked + unknown decrements, acked + unknown increments].
 *   Failed deltas count for nothing.
 * - A set (or a map's set field): every acknowledged add that no acknowledged or unknown removal
 *   which saw the element could have removed is present ("lost"); no element is present that
 *   nobody tried to add ("phantom"). An element an acknowledged removal saw but that is still
 *   present is counted, not judged (`notRemoved`): a removal removes only the dots both its
 *   client's context and the node's own read hold (docs/datatypes.md, "Consistency"), and the
 *   node's read at r may miss an add its client's read saw.
 * - A register field holds a value somebody assigned, and one at all once an assignment was
 *   acknowledged.
 * - The replicas of every key hold one joined state ("unconverged").
 *
 * Pure: history and final values in, verdict out.
 */
import type { Json } from '@ringkv/protocol';
import { DT_FIELDS, DT_KEYS, elementsOf, type DtFinalKey, type DtHistoryEvent } from './sim-dt-workload.js';

export interface DtVerdict {
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly counts: { readonly acknowledged: number; readonly failed: number; readonly unknown: number; readonly addsChecked: number; readonly removesChecked: number; readonly notRemoved: number };
}

function fieldOf(value: Json | undefined, field: string | undefined): Json | undefined {
  if (field === undefined) return value;
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value[field] : undefined;
}

function checkCounter(history: readonly DtHistoryEvent[], key: string, field: string | undefined, value: Json | undefined, out: string[]): void {
  let acked = 0;
  let up = 0;
  let down = 0;
  for (const e of history) {
    if (e.kind !== 'counter' || e.key !== key || e.field !== field) continue;
    if (e.outcome === 'acknowledged') acked += e.delta;
    else if (e.outcome === 'unknown' && e.delta > 0) up += e.delta;
    else if (e.outcome === 'unknown') down += e.delta;
  }
  const held = fieldOf(value, field) ?? 0;
  const name = field === undefined ? key : `${key}.${field}`;
  if (typeof held !== 'number' || held < acked + down || held > acked + up) {
    out.push(`${name}: counter ${JSON.stringify(held)} outside [${acked + down}, ${acked + up}] (acknowledged sum ${acked}, unknown +${up}/${down})`);
  }
}

function checkSet(history: readonly DtHistoryEvent[], key: string, field: string | undefined, value: Json | undefined, out: string[]): { adds: number; removes: number; notRemoved: number } {
  const name = field === undefined ? key : `${key}.${field}`;
  const present = new Set(elementsOf(value, field));
  const tried = new Set<string>();
  const mayBeRemoved = new Set<string>();
  const removed = new Set<string>();
  const acked: string[] = [];
  for (const e of history) {
    if (e.key !== key || e.field !== field) continue;
    if (e.kind === 'add') {
      tried.add(e.element);
      if (e.outcome === 'acknowledged') acked.push(e.element);
    } else if (e.kind === 'remove' && e.seen && e.outcome !== 'failed') {
      mayBeRemoved.add(e.element);
      if (e.outcome === 'acknowledged') removed.add(e.element);
    }
  }
  const lost = acked.filter((element) => !mayBeRemoved.has(element) && !present.has(element));
  if (lost.length > 0) out.push(`${name}: acknowledged adds lost: ${lost.slice(0, 10).join(', ')}`);
  const notRemoved = [...removed].filter((element) => present.has(element)).length;
  const phantom = [...present].filter((element) => !tried.has(element));
  if (phantom.length > 0) out.push(`${name}: present but never added: ${phantom.slice(0, 10).join(', ')}`);
  return { adds: acked.length, removes: removed.size, notRemoved };
}

function checkRegister(history: readonly DtHistoryEvent[], value: Json | undefined, out: string[]): void {
  const assigns = history.filter((e): e is DtHistoryEvent & { kind: 'assign' } => e.kind === 'assign');
  const held = fieldOf(value, DT_FIELDS.owner);
  if (held === undefined || held === null) {
    if (assigns.some((e) => e.outcome === 'acknowledged')) out.push(`${DT_KEYS.map}.${DT_FIELDS.owner}: empty after an acknowledged assignment`);
  } else if (!assigns.some((e) => e.value === held)) {
    out.push(`${DT_KEYS.map}.${DT_FIELDS.owner}: holds ${JSON.stringify(held)}, which nobody assigned`);
  }
}

/** Judges one run's data-type history against its final values. */
export function checkDt(history: readonly DtHistoryEvent[], final: ReadonlyMap<string, DtFinalKey>): DtVerdict {
  const violations: string[] = [];
  for (const [key, state] of final) if (!state.converged) violations.push(`${key}: replicas hold different states after the heal: ${JSON.stringify(state.states)}`);
  const valueOf = (key: string) => final.get(key)?.value;
  checkCounter(history, DT_KEYS.counter, undefined, valueOf(DT_KEYS.counter), violations);
  checkCounter(history, DT_KEYS.map, DT_FIELDS.hits, valueOf(DT_KEYS.map), violations);
  const set = checkSet(history, DT_KEYS.set, undefined, valueOf(DT_KEYS.set), violations);
  const tags = checkSet(history, DT_KEYS.map, DT_FIELDS.tags, valueOf(DT_KEYS.map), violations);
  checkRegister(history, valueOf(DT_KEYS.map), violations);
  const count = (outcome: string) => history.filter((e) => e.outcome === outcome).length;
  return {
    ok: violations.length === 0,
    violations,
    counts: { acknowledged: count('acknowledged'), failed: count('failed'), unknown: count('unknown'), addsChecked: set.adds + tags.adds, removesChecked: set.removes + tags.removes, notRemoved: set.notRemoved + tags.notRemoved },
  };
}
