/**
 * Dot stores and their join: the state of every data type is a dot store paired with a causal
 * context (Almeida, Shoker, Baquero 2018, §6: DotSet, DotFun, DotMap). An entry tagged with a
 * dot survives a join when both sides hold it, or when the other side has not seen its dot; an
 * entry the other side has seen but no longer holds was removed there. So a removal needs no
 * tombstone: the context remembers the dot, the store forgets the entry.
 *
 * - counter: a DotFun dot → integer; each actor keeps one entry holding the sum of its own
 *   increments (the "causal counter" of the paper's §7.2), so entries are bounded by actors.
 * - flag (enable-wins): a DotSet; enabled while any dot is present.
 * - register: a DotFun dot → (timestamp, value); concurrent assignments are all kept until the
 *   next assignment observes them, and a read shows the one with the highest (timestamp, dot).
 * - set (add-wins OR-set): a DotMap element → DotSet.
 * - map: a DotMap (field name, kind) → embedded dot store, sharing the one causal context.
 *
 * Pure: no clock, no randomness.
 */
import assert from 'node:assert/strict';
import { contains, joinContexts, type CausalContext, type Dot } from './causal-context.js';
import { DataTypeError } from './errors.js';

/** What a JSON value may be: the value of a register. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A register's entry: when it was assigned (the writer's wall clock) and to what. */
export interface RegisterValue {
  readonly timestampMs: number;
  readonly value: Json;
}

/** One entry of a DotFun: its dot and what it maps to. */
export interface Entry<V> {
  readonly dot: Dot;
  readonly value: V;
}

/** A function from dots to values, keyed by `dotKey`. A DotSet is a DotFun to `null`. */
export type DotFun<V> = ReadonlyMap<string, Entry<V>>;

/** A map field: its name and its embedded store (the map's key is `fieldKey(name, kind)`). */
export interface Field {
  readonly name: string;
  readonly store: Store;
}

export type Store =
  | { readonly kind: 'counter'; readonly dots: DotFun<number> }
  | { readonly kind: 'flag'; readonly dots: DotFun<null> }
  | { readonly kind: 'register'; readonly dots: DotFun<RegisterValue> }
  | { readonly kind: 'set'; readonly elements: ReadonlyMap<string, DotFun<null>> }
  | { readonly kind: 'map'; readonly fields: ReadonlyMap<string, Field> };

/** The five kinds; counter, set and map may stand alone as a key's type. */
export type Kind = Store['kind'];
export const KINDS: readonly Kind[] = ['counter', 'flag', 'register', 'set', 'map'];
export const TOP_LEVEL_KINDS: readonly Kind[] = ['counter', 'set', 'map'];

/** A data type's whole state: a store and the causal context it was built under. */
export interface DataType {
  readonly store: Store;
  readonly context: CausalContext;
}

/** The key of a map field: fields of different kinds under one name never merge. */
export function fieldKey(name: string, kind: Kind): string {
  return `${kind}\u0000${name}`;
}

/** The bottom (empty) store of a kind. */
export function emptyStore(kind: Kind): Store {
  switch (kind) {
    case 'set':
      return { kind, elements: new Map() };
    case 'map':
      return { kind, fields: new Map() };
    default:
      return { kind, dots: new Map() } as Store;
  }
}

/** True when the store holds nothing (a map drops such a field, a set such an element). */
export function isEmpty(store: Store): boolean {
  return store.kind === 'set' ? store.elements.size === 0 : store.kind === 'map' ? store.fields.size === 0 : store.dots.size === 0;
}

/** The DotFun join: keep what both hold, and what one holds that the other has not seen. */
export function joinDotFun<V>(a: DotFun<V>, ca: CausalContext, b: DotFun<V>, cb: CausalContext): DotFun<V> {
  const out = new Map<string, Entry<V>>();
  for (const [key, entry] of a) if (b.has(key) || !contains(cb, entry.dot)) out.set(key, entry);
  for (const [key, entry] of b) if (!a.has(key) && !contains(ca, entry.dot)) out.set(key, entry);
  return out;
}

function joinKeyed<S>(a: ReadonlyMap<string, S>, b: ReadonlyMap<string, S>, join: (x: S | undefined, y: S | undefined) => S | undefined): Map<string, S> {
  const out = new Map<string, S>();
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const joined = join(a.get(key), b.get(key));
    if (joined !== undefined) out.set(key, joined);
  }
  return out;
}

/** Joins two stores of the same kind under their contexts. */
export function joinStores(a: Store, ca: CausalContext, b: Store, cb: CausalContext): Store {
  assert.equal(a.kind, b.kind, 'joinStores: kinds differ');
  switch (a.kind) {
    case 'set': {
      const none = new Map<string, Entry<null>>();
      const elements = joinKeyed((a as typeof a).elements, (b as typeof a).elements, (x, y) => {
        const dots = joinDotFun(x ?? none, ca, y ?? none, cb);
        return dots.size === 0 ? undefined : dots;
      });
      return { kind: 'set', elements };
    }
    case 'map': {
      const fields = joinKeyed((a as typeof a).fields, (b as typeof a).fields, (x, y) => {
        const kind = (x ?? y)!.store.kind;
        const store = joinStores(x?.store ?? emptyStore(kind), ca, y?.store ?? emptyStore(kind), cb);
        return isEmpty(store) ? undefined : { name: (x ?? y)!.name, store };
      });
      return { kind: 'map', fields };
    }
    default:
      return { kind: a.kind, dots: joinDotFun(a.dots as DotFun<unknown>, ca, (b as typeof a).dots as DotFun<unknown>, cb) } as Store;
  }
}

/**
 * The join of two states of one data type: commutative, associative and idempotent
 * (property-tested in datatypes.test.ts), so replicas converge whatever order states meet in.
 * Two different kinds do not join: a coded 409.
 */
export function join(a: DataType, b: DataType): DataType {
  if (a.store.kind !== b.store.kind) {
    throw new DataTypeError('KV_ERR_DT_TYPE_MISMATCH', `a ${a.store.kind} cannot be joined with a ${b.store.kind}`, { held: a.store.kind, other: b.store.kind });
  }
  return { store: joinStores(a.store, a.context, b.store, b.context), context: joinContexts(a.context, b.context) };
}

/** Every dot the store holds, in any order (for metadata figures and tests). */
export function* dotsOf(store: Store): Generator<Dot> {
  if (store.kind === 'set') {
    for (const dots of store.elements.values()) for (const entry of dots.values()) yield entry.dot;
  } else if (store.kind === 'map') {
    for (const field of store.fields.values()) yield* dotsOf(field.store);
  } else {
    for (const entry of (store.dots as DotFun<unknown>).values()) yield entry.dot;
  }
}

/** Number of entries a store holds (dots, elements and fields): what the limits count. */
export function entryCount(store: Store): number {
  if (store.kind === 'set') {
    let count = store.elements.size;
    for (const dots of store.elements.values()) count += dots.size;
    return count;
  }
  if (store.kind === 'map') {
    let count = store.fields.size;
    for (const field of store.fields.values()) count += entryCount(field.store);
    return count;
  }
  return store.dots.size;
}
