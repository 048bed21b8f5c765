/**
 * Applying an operation to a state under a fresh dot: the "delta mutators" of Almeida, Shoker
 * and Baquero (2018), §7 (add-wins OR-set, enable-wins flag, causal counter, ORMap), applied
 * whole. Every operation takes one new dot and adds it to the context; what an operation
 * replaces (a set element's earlier dots, a register's or flag's dots, an actor's earlier
 * counter entry) must be in the writer's state, so it is replaced everywhere once states join,
 * while what the writer had not seen survives the join: adds win over concurrent removes.
 *
 * A removal removes only dots its observed context covers: the client's context when it sent
 * one (what its read saw), else the writer's state. Pure: the dot and the time come in.
 */
import assert from 'node:assert/strict';
import { addDot, contains, emptyContext, type CausalContext, type Dot } from './causal-context.js';
import { emptyStore, entryCount, fieldKey, isEmpty, TOP_LEVEL_KINDS, type DataType, type DotFun, type Entry, type Field, type Kind, type Store } from './dot-store.js';
import { DataTypeError } from './errors.js';
import type { DataTypeLimits } from './limits.js';
import { kindOf, type Operation } from './operation.js';

function mismatch(held: Kind, wanted: Kind, where: string): never {
  throw new DataTypeError('KV_ERR_DT_TYPE_MISMATCH', `${where} holds a ${held}; this operation is for a ${wanted}`, { held, wanted });
}

/** The dots of `dots` that `observed` has not seen (a removal's survivors). */
function unobserved<V>(dots: DotFun<V>, observed: CausalContext): Map<string, Entry<V>> {
  const out = new Map<string, Entry<V>>();
  for (const [key, entry] of dots) if (!contains(observed, entry.dot)) out.set(key, entry);
  return out;
}

/** The store without every dot `observed` covers: an observed remove (map field, reset). */
export function restrict(store: Store, observed: CausalContext): Store {
  switch (store.kind) {
    case 'set': {
      const elements = new Map<string, DotFun<null>>();
      for (const [element, dots] of store.elements) {
        const kept = unobserved(dots, observed);
        if (kept.size > 0) elements.set(element, kept);
      }
      return { kind: 'set', elements };
    }
    case 'map': {
      const fields = new Map<string, Field>();
      for (const [key, field] of store.fields) {
        const kept = restrict(field.store, observed);
        if (!isEmpty(kept)) fields.set(key, { name: field.name, store: kept });
      }
      return { kind: 'map', fields };
    }
    default:
      return { kind: store.kind, dots: unobserved(store.dots as DotFun<unknown>, observed) } as Store;
  }
}

function single<V>(dot: Dot, value: V): Map<string, Entry<V>> {
  return new Map([[`${dot.actor}\u0000${dot.counter}`, { dot, value }]]);
}

/** A counter increment: the writer's actor keeps one entry, the sum of all its increments. */
function increment(dots: DotFun<number>, by: number, dot: Dot): Store {
  const rest = new Map<string, Entry<number>>();
  let own = by;
  for (const [key, entry] of dots) {
    if (entry.dot.actor === dot.actor) own += entry.value;
    else rest.set(key, entry);
  }
  if (!Number.isSafeInteger(own)) throw new DataTypeError('KV_ERR_DT_BAD_OPERATION', 'the counter would leave the safe integer range (±2^53-1)');
  rest.set(`${dot.actor}\u0000${dot.counter}`, { dot, value: own });
  return { kind: 'counter', dots: rest };
}

function applySet(store: Store & { kind: 'set' }, op: Operation & { kind: 'set' | 'remove' }, dot: Dot, observed: CausalContext): Store {
  const elements = new Map(store.elements);
  for (const element of op.remove) {
    const dots = elements.get(element);
    if (dots === undefined) continue;
    const kept = unobserved(dots, observed);
    if (kept.size > 0) elements.set(element, kept);
    else elements.delete(element);
  }
  // An add replaces the element's dots the writer holds: they are all in its context.
  if (op.kind === 'set') for (const element of op.add) elements.set(element, single(dot, null));
  return { kind: 'set', elements };
}

/** The one field a named field operation targets, or a 409 when the name holds another kind. */
function fieldFor(fields: ReadonlyMap<string, Field>, name: string, op: Operation): { key: string; kind: Kind } {
  const held = [...fields.values()].filter((field) => field.name === name).map((field) => field.store.kind);
  const kind = kindOf(op, held.length === 1 ? held[0] : held.includes('set') ? 'set' : held[0]);
  if (held.length > 0 && !held.includes(kind)) mismatch(held[0]!, kind, `field "${name}"`);
  return { key: fieldKey(name, kind), kind };
}

function applyMap(store: Store & { kind: 'map' }, op: Operation & { kind: 'map' | 'remove' }, dot: Dot, observed: CausalContext, nowMs: number): Store {
  const fields = new Map(store.fields);
  for (const name of op.remove) {
    for (const [key, field] of fields) {
      if (field.name !== name) continue;
      const kept = restrict(field.store, observed);
      if (isEmpty(kept)) fields.delete(key);
      else fields.set(key, { name, store: kept });
    }
  }
  if (op.kind === 'map') {
    for (const [name, fieldOp] of op.update) {
      const { key, kind } = fieldFor(fields, name, fieldOp);
      const fieldObserved = fieldOp.kind === 'set' || fieldOp.kind === 'map' || fieldOp.kind === 'remove' ? fieldOp.context ?? observed : observed;
      const next = applyStore(fields.get(key)?.store ?? emptyStore(kind), fieldOp, dot, fieldObserved, nowMs);
      if (isEmpty(next)) fields.delete(key);
      else fields.set(key, { name, store: next });
    }
  }
  return { kind: 'map', fields };
}

function applyStore(store: Store, op: Operation, dot: Dot, observed: CausalContext, nowMs: number): Store {
  const kind = kindOf(op, store.kind);
  if (kind !== store.kind) mismatch(store.kind, kind, 'the key');
  switch (store.kind) {
    case 'counter':
      return increment(store.dots, (op as Operation & { kind: 'counter' }).increment, dot);
    case 'flag':
      return { kind: 'flag', dots: (op as Operation & { kind: 'flag' }).enable ? single(dot, null) : new Map() };
    case 'register':
      return { kind: 'register', dots: single(dot, { timestampMs: nowMs, value: (op as Operation & { kind: 'register' }).assign }) };
    case 'set':
      return applySet(store, op as Operation & { kind: 'set' | 'remove' }, dot, observed);
    case 'map':
      return applyMap(store, op as Operation & { kind: 'map' | 'remove' }, dot, observed, nowMs);
  }
}

/**
 * The state after `op`, written under `dot` at `nowMs` (a register's timestamp). `current` is
 * the writer's state (undefined: the key holds nothing yet). `dot` must be new to it.
 * Throws a coded 409 when the key or a field holds another kind, 400 for an operation that
 * cannot apply, 413 when the result would pass `entriesMax`.
 */
export function applyOperation(current: DataType | undefined, op: Operation, dot: Dot, nowMs: number, limits: DataTypeLimits): DataType {
  const context = current?.context ?? emptyContext;
  assert(!contains(context, dot), 'applyOperation: the dot is not new to the state');
  const kind = kindOf(op, current?.store.kind);
  assert(TOP_LEVEL_KINDS.includes(kind), 'applyOperation: registers and flags live in maps (parseOperation)');
  const observed = op.kind === 'set' || op.kind === 'map' || op.kind === 'remove' ? op.context ?? context : context;
  const store = applyStore(current?.store ?? emptyStore(kind), op, dot, observed, nowMs);
  const entries = entryCount(store);
  if (entries > limits.entriesMax) {
    throw new DataTypeError('KV_ERR_DT_TOO_LARGE', `the data type would hold ${entries} entries; the limit is ${limits.entriesMax}`, { entries, limit: limits.entriesMax });
  }
  return { store, context: addDot(context, dot) };
}
