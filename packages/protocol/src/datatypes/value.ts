/**
 * What a reader sees of a state: plain JSON. A counter is its sum, a set its sorted elements, a
 * flag a boolean, a register the value of its highest (timestamp, dot) entry (last writer
 * wins by the writers' wall clocks: docs/datatypes.md says what that risks), a map an object
 * of its fields. A field name that holds two kinds at once (two writers created it
 * concurrently as different kinds) shows as `name:kind` for each, so no value is hidden.
 */
import { compareDots } from './causal-context.js';
import type { DataType, Entry, Json, RegisterValue, Store } from './dot-store.js';

function registerValue(entries: Iterable<Entry<RegisterValue>>): Json {
  let best: Entry<RegisterValue> | undefined;
  for (const entry of entries) {
    if (best === undefined || entry.value.timestampMs > best.value.timestampMs || (entry.value.timestampMs === best.value.timestampMs && compareDots(entry.dot, best.dot) > 0)) best = entry;
  }
  return best?.value.value ?? null;
}

/** The JSON value of a store. */
export function valueOfStore(store: Store): Json {
  switch (store.kind) {
    case 'counter': {
      let sum = 0;
      for (const entry of store.dots.values()) sum += entry.value;
      return sum;
    }
    case 'flag':
      return store.dots.size > 0;
    case 'register':
      return registerValue(store.dots.values());
    case 'set':
      return [...store.elements.keys()].sort();
    case 'map': {
      const counts = new Map<string, number>();
      for (const field of store.fields.values()) counts.set(field.name, (counts.get(field.name) ?? 0) + 1);
      const out: Record<string, Json> = {};
      const fields = [...store.fields.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.store.kind < b.store.kind ? -1 : 1));
      for (const field of fields) {
        const name = counts.get(field.name)! > 1 ? `${field.name}:${field.store.kind}` : field.name;
        // defineProperty, not assignment: a field named "__proto__" is a field like any other.
        Object.defineProperty(out, name, { value: valueOfStore(field.store), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}

/** The JSON value of a data type. */
export function valueOf(dt: DataType): Json {
  return valueOfStore(dt.store);
}
