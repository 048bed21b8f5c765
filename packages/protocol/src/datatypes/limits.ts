/**
 * Bounds on every data type (STYLE.md §10): a state, an operation and a context token are all
 * finite, and going past a bound is a coded error (400 for an operation, 413 for a state that
 * would grow past its bound), never a crash.
 */

export interface DataTypeLimits {
  /** Largest encoded state, in bytes (a node also bounds it by its value limit). */
  readonly bytesMax: number;
  /** Most entries (dots, set elements, map fields, all levels together) in one state. */
  readonly entriesMax: number;
  /** Deepest nesting of maps inside maps (a top-level map is depth 1). */
  readonly depthMax: number;
  /** Longest set element or map field name, in UTF-8 bytes. */
  readonly stringBytesMax: number;
  /** Largest register value, in bytes of its JSON. */
  readonly registerBytesMax: number;
  /** Most adds, removes or field updates in one operation (per level). */
  readonly operationItemsMax: number;
  /** Most entries (actors plus cloud dots) in a causal context. */
  readonly contextEntriesMax: number;
}

export const defaultDataTypeLimits: DataTypeLimits = Object.freeze({
  bytesMax: 1024 * 1024,
  entriesMax: 50_000,
  depthMax: 4,
  stringBytesMax: 1024,
  registerBytesMax: 16 * 1024,
  operationItemsMax: 1000,
  contextEntriesMax: 4096,
});

/** Longest actor name, in bytes: actors are minted by nodes (a random name, docs/datatypes.md). */
export const ACTOR_BYTES_MAX = 64;

/** Deepest nesting of arrays and objects in a register value (JSON.stringify recurses). */
export const REGISTER_DEPTH_MAX = 32;

/**
 * True when `value` nests arrays and objects at most `depthMax` deep. Iterative: a value
 * nested a million deep (JSON.parse accepts it) must not overflow the stack here either.
 */
export function jsonDepthWithin(value: unknown, depthMax: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= depthMax) return false;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return true;
}
