/**
 * The checker of the data-type workloads (issue 15, acceptance; docs/datatypes.md): a history
 * of counter, set and map-field operations, each acknowledged, failed (surely not applied) or
 * unknown (may have been applied, at any time), judged against the state read after the heal.
 *
 * - A counter (or a map's counter field) must lie within [Σ acknowledged + Σ unknown
 *   decrements, Σ acknowledged + Σ unknown increments]: every acknowledged change counted
 *   once, each unknown one at most once (Cassandra's counters drifted by up to 50 % here).
 * - A set (or a map's set field): every acknowledged add is present unless a removal that saw
 *   it (acknowledged or unknown) may have taken it; nothing is present that no add (of any
 *   outcome) wrote; an element an acknowledged removal saw is gone (elements are unique, so
 *   its one dot is in that removal's context: add-wins cannot bring it back).
 *
 * A map field is named `<key>/<field>`, so one rule serves top-level types and fields. Pure:
 * the workloads (test/datatypes/dt-faults.test.ts, test/netns/dt-workload.ts) record, this judges.
 */

/** acked: the client was told it applied; failed: surely not applied; unknown: may have applied. */
export type DtOutcome = 'acked' | 'failed' | 'unknown';

export type DtEvent =
  | { readonly kind: 'counter'; readonly name: string; readonly by: number; readonly outcome: DtOutcome }
  | { readonly kind: 'add'; readonly name: string; readonly element: string; readonly outcome: DtOutcome }
  /** A removal of an element the read before it saw present, sent with that read's context. */
  | { readonly kind: 'remove'; readonly name: string; readonly element: string; readonly outcome: DtOutcome };

/** The state read after the heal: counters and sets by name (map fields as `<key>/<field>`). */
export interface DtFinal {
  readonly counters: ReadonlyMap<string, number>;
  readonly sets: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface CounterBounds {
  readonly name: string;
  readonly value: number;
  readonly low: number;
  readonly high: number;
}

export interface DtVerdict {
  /** Every counter with its bounds (for the report). */
  readonly counters: CounterBounds[];
  /** Counters outside their bounds. */
  readonly drifted: CounterBounds[];
  /** Acknowledged adds missing though no removal saw them: `name:element`. */
  readonly lost: string[];
  /** Elements present that no add wrote. */
  readonly invented: string[];
  /** Elements present although an acknowledged removal saw them. */
  readonly resurrected: string[];
  readonly acknowledged: number;
  readonly unknown: number;
  readonly failed: number;
}

/** The [low, high] an exact counter must lie in, given its history. */
export function counterBounds(events: readonly DtEvent[], name: string): { low: number; high: number } {
  let low = 0;
  let high = 0;
  for (const event of events) {
    if (event.kind !== 'counter' || event.name !== name || event.outcome === 'failed') continue;
    if (event.outcome === 'acked') {
      low += event.by;
      high += event.by;
    } else if (event.by < 0) low += event.by;
    else high += event.by;
  }
  return { low, high };
}

function setVerdict(events: readonly DtEvent[], final: DtFinal): Pick<DtVerdict, 'lost' | 'invented' | 'resurrected'> {
  const written = new Set<string>();
  const acked = new Set<string>();
  const mayBeRemoved = new Set<string>();
  const surelyRemoved = new Set<string>();
  for (const event of events) {
    const id = `${event.name}:${'element' in event ? event.element : ''}`;
    if (event.kind === 'add' && event.outcome !== 'failed') written.add(id);
    if (event.kind === 'add' && event.outcome === 'acked') acked.add(id);
    if (event.kind === 'remove' && event.outcome !== 'failed') mayBeRemoved.add(id);
    if (event.kind === 'remove' && event.outcome === 'acked') surelyRemoved.add(id);
  }
  const present = new Set<string>();
  for (const [name, elements] of final.sets) for (const element of elements) present.add(`${name}:${element}`);
  return {
    lost: [...acked].filter((id) => !mayBeRemoved.has(id) && !present.has(id)).sort(),
    invented: [...present].filter((id) => !written.has(id)).sort(),
    resurrected: [...surelyRemoved].filter((id) => present.has(id)).sort(),
  };
}

/** Judges `events` against the state read after the heal. */
export function checkDataTypes(events: readonly DtEvent[], final: DtFinal): DtVerdict {
  const names = new Set(events.filter((e) => e.kind === 'counter').map((e) => e.name));
  for (const name of final.counters.keys()) names.add(name);
  const counters = [...names].sort().map((name) => ({ name, value: final.counters.get(name) ?? 0, ...counterBounds(events, name) }));
  const count = (outcome: DtOutcome) => events.filter((e) => e.outcome === outcome).length;
  return {
    counters,
    drifted: counters.filter((c) => c.value < c.low || c.value > c.high),
    ...setVerdict(events, final),
    acknowledged: count('acked'),
    unknown: count('unknown'),
    failed: count('failed'),
  };
}

/**
 * Flattens data-type values read by key (`dtGet(...).value`) into a DtFinal: a number is a
 * counter, an array a set, an object a map whose counter and set fields become `<key>/<field>`.
 */
export function finalFromValues(values: ReadonlyMap<string, unknown>): DtFinal {
  const counters = new Map<string, number>();
  const sets = new Map<string, ReadonlySet<string>>();
  const take = (name: string, value: unknown) => {
    if (typeof value === 'number') counters.set(name, value);
    else if (Array.isArray(value)) sets.set(name, new Set(value as string[]));
  };
  for (const [key, value] of values) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [field, inner] of Object.entries(value as Record<string, unknown>)) take(`${key}/${field}`, inner);
    } else take(key, value);
  }
  return { counters, sets };
}
