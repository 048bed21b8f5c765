/**
 * Operations a client sends (`POST /dt/{key}` bodies), parsed from untrusted JSON into a typed,
 * bounded form. Every malformed or oversize operation is a coded 400 KV_ERR_DT_BAD_OPERATION
 * (a bad context token: 400 KV_ERR_BAD_CONTEXT), found before any state is read.
 *
 *   counter   {"increment": 5} | {"decrement": 2}
 *   set       {"add": ["a"], "remove": ["b"], "context": "<token>"}   (either list optional)
 *   map       {"update": {"field": <op>, …}, "remove": ["field"], "context": "<token>"}
 *   in maps   {"assign": <json>} (register) | {"enable": true} | {"disable": true} (flag)
 *
 * `{"remove": […]}` alone removes set elements or map fields, whichever the key (or field)
 * holds; on nothing it is a set removal.
 */
import { type CausalContext } from './causal-context.js';
import { decodeContextToken } from './codec.js';
import type { Json, Kind } from './dot-store.js';
import { DataTypeError } from './errors.js';
import { jsonDepthWithin, REGISTER_DEPTH_MAX, type DataTypeLimits } from './limits.js';

export type Operation =
  | { readonly kind: 'counter'; readonly increment: number }
  | { readonly kind: 'set'; readonly add: readonly string[]; readonly remove: readonly string[]; readonly context?: CausalContext }
  | { readonly kind: 'register'; readonly assign: Json }
  | { readonly kind: 'flag'; readonly enable: boolean }
  | { readonly kind: 'map'; readonly update: ReadonlyArray<readonly [string, Operation]>; readonly remove: readonly string[]; readonly context?: CausalContext }
  /** A bare removal: of set elements or map fields, resolved against the kind held. */
  | { readonly kind: 'remove'; readonly remove: readonly string[]; readonly context?: CausalContext };

function bad(message: string, details: Record<string, string | number> = {}): never {
  throw new DataTypeError('KV_ERR_DT_BAD_OPERATION', message, details);
}

function onlyKeys(raw: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(raw)) if (!allowed.includes(key)) bad(`${what} takes ${allowed.map((k) => `"${k}"`).join(', ')}; "${key}" is not one of them`, { field: key });
}

function strings(raw: unknown, limits: DataTypeLimits, what: string): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > limits.operationItemsMax) bad(`"${what}" must be a list of at most ${limits.operationItemsMax} strings`);
  for (const item of raw) {
    if (typeof item !== 'string' || Buffer.byteLength(item) > limits.stringBytesMax) bad(`"${what}" holds an item that is not a string of at most ${limits.stringBytesMax} bytes`);
  }
  return [...new Set(raw as string[])];
}

function contextOf(raw: unknown, limits: DataTypeLimits): { context?: CausalContext } {
  if (raw === undefined) return {};
  if (typeof raw !== 'string') bad('"context" must be the token string a read returned');
  return { context: decodeContextToken(raw, limits) };
}

function amount(raw: unknown, name: string): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) bad(`"${name}" must be a non-negative integer up to 2^53-1`);
  return raw;
}

function parseUpdate(raw: unknown, limits: DataTypeLimits, depth: number): Array<readonly [string, Operation]> {
  if (depth > limits.depthMax) bad(`maps nest at most ${limits.depthMax} deep`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('"update" must be an object of field operations');
  const entries = Object.entries(raw);
  if (entries.length > limits.operationItemsMax) bad(`"update" holds more than ${limits.operationItemsMax} fields`);
  return entries.map(([name, op]) => {
    if (Buffer.byteLength(name) > limits.stringBytesMax) bad(`a field name is longer than ${limits.stringBytesMax} bytes`);
    return [name, parseAt(op, limits, depth, false)] as const;
  });
}

function parseAt(raw: unknown, limits: DataTypeLimits, depth: number, topLevel: boolean): Operation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('an operation must be a JSON object');
  const op = raw as Record<string, unknown>;
  if ('increment' in op || 'decrement' in op) {
    onlyKeys(op, ['increment', 'decrement'], 'a counter operation');
    const increment = amount(op['increment'] ?? 0, 'increment') - amount(op['decrement'] ?? 0, 'decrement');
    return { kind: 'counter', increment };
  }
  if ('update' in op) {
    onlyKeys(op, ['update', 'remove', 'context'], 'a map operation');
    return { kind: 'map', update: parseUpdate(op['update'], limits, depth + 1), remove: strings(op['remove'], limits, 'remove'), ...contextOf(op['context'], limits) };
  }
  if ('add' in op) {
    onlyKeys(op, ['add', 'remove', 'context'], 'a set operation');
    return { kind: 'set', add: strings(op['add'], limits, 'add'), remove: strings(op['remove'], limits, 'remove'), ...contextOf(op['context'], limits) };
  }
  if ('remove' in op) {
    onlyKeys(op, ['remove', 'context'], 'a removal');
    return { kind: 'remove', remove: strings(op['remove'], limits, 'remove'), ...contextOf(op['context'], limits) };
  }
  if (!topLevel && 'assign' in op) {
    onlyKeys(op, ['assign'], 'a register operation');
    if (!jsonDepthWithin(op['assign'], REGISTER_DEPTH_MAX)) bad(`a register value nests deeper than ${REGISTER_DEPTH_MAX}`);
    const text = JSON.stringify(op['assign']);
    if (text.length > limits.registerBytesMax) bad(`a register value is larger than ${limits.registerBytesMax} bytes`);
    return { kind: 'register', assign: op['assign'] as Json };
  }
  if (!topLevel && ('enable' in op || 'disable' in op)) {
    onlyKeys(op, ['enable', 'disable'], 'a flag operation');
    if (Object.keys(op).length !== 1 || Object.values(op)[0] !== true) bad('a flag operation is {"enable": true} or {"disable": true}');
    return { kind: 'flag', enable: 'enable' in op };
  }
  return bad(topLevel ? 'an operation is one of increment/decrement, add/remove or update (registers and flags live in maps)' : 'a field operation is one of increment/decrement, add/remove, update, assign, enable or disable');
}

/** Parses a top-level operation (a counter, set or map operation). */
export function parseOperation(raw: unknown, limits: DataTypeLimits): Operation {
  return parseAt(raw, limits, 1, true);
}

/** Parses the JSON text of an operation body. */
export function parseOperationText(text: string, limits: DataTypeLimits): Operation {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad('the body is not JSON');
  }
  return parseOperation(raw, limits);
}

/** The kind an operation applies to, given the kind already held there (if any). */
export function kindOf(op: Operation, held: Kind | undefined): Kind {
  if (op.kind !== 'remove') return op.kind;
  return held === 'map' ? 'map' : 'set';
}
