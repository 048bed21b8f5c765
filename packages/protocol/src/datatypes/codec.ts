/**
 * The stored and wire forms of a data type. A state is stored as the value of an ordinary
 * object under the content type `DATA_TYPE_CONTENT_TYPE`, as canonical JSON (every list sorted),
 * so equal states encode to equal bytes and read repair, hinted handoff, anti-entropy and
 * ownership handoff carry it like any value. The causal context a client holds for removals
 * travels as an opaque base64url token of the same context JSON.
 *
 * Decoding checks every shape and bound (limits.ts) and fails with a coded error; nothing a
 * client or a peer sends can make it throw anything else.
 *
 *   state:   {"ringkv":"dt/1","store":S,"context":C}
 *   S:       {"counter":[[actor,counter,value],…]} | {"flag":[[actor,counter],…]}
 *            | {"register":[[actor,counter,timestampMs,value],…]}
 *            | {"set":[[element,[[actor,counter],…]],…]} | {"map":[[name,S],…]}
 *   C:       {"vv":[[actor,counter],…],"cloud":[[actor,counter],…]}
 */
import { compareDots, dotKey, type CausalContext, type Dot } from './causal-context.js';
import { entryCount, fieldKey, KINDS, type DataType, type DotFun, type Entry, type Field, type Json, type Kind, type RegisterValue, type Store } from './dot-store.js';
import { DataTypeError } from './errors.js';
import { ACTOR_BYTES_MAX, jsonDepthWithin, REGISTER_DEPTH_MAX, type DataTypeLimits } from './limits.js';

/** The content type of an object holding a data type. */
export const DATA_TYPE_CONTENT_TYPE = 'application/vnd.ringkv.datatype+json';

const FORMAT = 'dt/1';

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortedEntries<V>(dots: DotFun<V>): Entry<V>[] {
  return [...dots.values()].sort((a, b) => compareDots(a.dot, b.dot));
}

function storeJson(store: Store): unknown {
  switch (store.kind) {
    case 'counter':
      return { counter: sortedEntries(store.dots).map((e) => [e.dot.actor, e.dot.counter, e.value]) };
    case 'flag':
      return { flag: sortedEntries(store.dots).map((e) => [e.dot.actor, e.dot.counter]) };
    case 'register':
      return { register: sortedEntries(store.dots).map((e) => [e.dot.actor, e.dot.counter, e.value.timestampMs, e.value.value]) };
    case 'set':
      return { set: [...store.elements].sort(([a], [b]) => byString(a, b)).map(([element, dots]) => [element, sortedEntries(dots).map((e) => [e.dot.actor, e.dot.counter])]) };
    case 'map':
      return { map: [...store.fields].sort(([a], [b]) => byString(a, b)).map(([, field]) => [field.name, storeJson(field.store)]) };
  }
}

function contextJson(context: CausalContext): unknown {
  return {
    vv: [...context.vv].sort(([a], [b]) => byString(a, b)),
    cloud: [...context.cloud.values()].sort(compareDots).map((d) => [d.actor, d.counter]),
  };
}

/** The canonical JSON text of a state (equal states give equal text). */
export function encodeDataTypeText(dt: DataType): string {
  return JSON.stringify({ ringkv: FORMAT, store: storeJson(dt.store), context: contextJson(dt.context) });
}

/** The stored bytes of a state; a state past `bytesMax` or `entriesMax` is a coded 413. */
export function encodeDataType(dt: DataType, limits: DataTypeLimits): Uint8Array {
  const entries = entryCount(dt.store);
  if (entries > limits.entriesMax) {
    throw new DataTypeError('KV_ERR_DT_TOO_LARGE', `the data type would hold ${entries} entries; the limit is ${limits.entriesMax}`, { entries, limit: limits.entriesMax });
  }
  const bytes = new TextEncoder().encode(encodeDataTypeText(dt));
  if (bytes.length > limits.bytesMax) {
    throw new DataTypeError('KV_ERR_DT_TOO_LARGE', `the data type would take ${bytes.length} bytes; the limit is ${limits.bytesMax}`, { bytes: bytes.length, limit: limits.bytesMax });
  }
  return bytes;
}

/** The opaque context token a read hands out and a removal sends back. */
export function encodeContextToken(context: CausalContext): string {
  return Buffer.from(JSON.stringify(contextJson(context))).toString('base64url');
}

/** Reads untrusted JSON shapes; every failure throws the code it was built with. */
class Reader {
  private entries = 0;
  constructor(
    private readonly limits: DataTypeLimits,
    private readonly code: 'KV_ERR_DT_TYPE_MISMATCH' | 'KV_ERR_BAD_CONTEXT',
  ) {}

  fail(why: string): never {
    const message = this.code === 'KV_ERR_BAD_CONTEXT' ? `the data type context is not valid: ${why}` : `the stored value is not a valid data type: ${why}`;
    throw new DataTypeError(this.code, message, this.code === 'KV_ERR_BAD_CONTEXT' ? {} : { reason: 'undecodable' });
  }

  count(n: number): void {
    this.entries += n;
    if (this.entries > this.limits.entriesMax) this.fail(`more than ${this.limits.entriesMax} entries`);
  }

  array(raw: unknown, what: string): unknown[] {
    if (!Array.isArray(raw)) this.fail(`${what} is not a list`);
    this.count(raw.length);
    return raw;
  }

  string(raw: unknown, bytesMax: number, what: string): string {
    if (typeof raw !== 'string' || Buffer.byteLength(raw) > bytesMax) this.fail(`${what} is not a string of at most ${bytesMax} bytes`);
    return raw;
  }

  integer(raw: unknown, min: number, what: string): number {
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < min) this.fail(`${what} is not an integer ≥ ${min}`);
    return raw;
  }

  actor(raw: unknown): string {
    const actor = this.string(raw, ACTOR_BYTES_MAX, 'an actor');
    if (actor.length === 0 || actor.includes('\u0000')) this.fail('an actor is empty or holds NUL');
    return actor;
  }

  dot(raw: unknown, extra = 0): { dot: Dot; rest: unknown[] } {
    if (!Array.isArray(raw) || raw.length !== 2 + extra) this.fail(`a dot entry is not a list of ${2 + extra}`);
    return { dot: { actor: this.actor(raw[0]), counter: this.integer(raw[1], 1, 'a counter') }, rest: raw.slice(2) };
  }

  dots<V>(raw: unknown, extra: number, value: (rest: unknown[]) => V): DotFun<V> {
    const out = new Map<string, Entry<V>>();
    for (const item of this.array(raw, 'a dot list')) {
      const { dot, rest } = this.dot(item, extra);
      const key = dotKey(dot);
      if (out.has(key)) this.fail('a dot appears twice');
      out.set(key, { dot, value: value(rest) });
    }
    return out;
  }

  register(rest: unknown[]): RegisterValue {
    const value = rest[1] as Json;
    if (!jsonDepthWithin(value, REGISTER_DEPTH_MAX)) this.fail('a register value nests too deep');
    if (JSON.stringify(value).length > this.limits.registerBytesMax) this.fail('a register value is too large');
    return { timestampMs: this.integer(rest[0], 0, 'a timestamp'), value };
  }

  store(raw: unknown, depth: number): Store {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) this.fail('a store is not an object');
    const keys = Object.keys(raw);
    const kind = keys[0] as Kind;
    if (keys.length !== 1 || !KINDS.includes(kind)) this.fail('a store does not name one kind');
    const body = (raw as Record<string, unknown>)[kind];
    switch (kind) {
      case 'counter':
        return { kind, dots: this.dots(body, 1, (rest) => this.integer(rest[0], Number.MIN_SAFE_INTEGER, 'a counter value')) };
      case 'flag':
        return { kind, dots: this.dots(body, 0, () => null) };
      case 'register':
        return { kind, dots: this.dots(body, 2, (rest) => this.register(rest)) };
      case 'set':
        return { kind, elements: this.elements(body) };
      case 'map':
        return { kind, fields: this.fields(body, depth) };
    }
  }

  elements(raw: unknown): Map<string, DotFun<null>> {
    const out = new Map<string, DotFun<null>>();
    for (const item of this.array(raw, 'a set')) {
      if (!Array.isArray(item) || item.length !== 2) this.fail('a set element is not [element, dots]');
      const element = this.string(item[0], this.limits.stringBytesMax, 'a set element');
      const dots = this.dots(item[1], 0, () => null);
      if (out.has(element) || dots.size === 0) this.fail('a set element appears twice or has no dot');
      out.set(element, dots);
    }
    return out;
  }

  fields(raw: unknown, depth: number): Map<string, Field> {
    if (depth > this.limits.depthMax) this.fail(`maps nest deeper than ${this.limits.depthMax}`);
    const out = new Map<string, Field>();
    for (const item of this.array(raw, 'a map')) {
      if (!Array.isArray(item) || item.length !== 2) this.fail('a map field is not [name, store]');
      const name = this.string(item[0], this.limits.stringBytesMax, 'a field name');
      const store = this.store(item[1], depth + 1);
      const key = fieldKey(name, store.kind);
      if (out.has(key)) this.fail('a map field appears twice');
      out.set(key, { name, store });
    }
    return out;
  }

  context(raw: unknown): CausalContext {
    if (typeof raw !== 'object' || raw === null) this.fail('the context is not an object');
    const { vv: rawVv, cloud: rawCloud } = raw as Record<string, unknown>;
    const vv = new Map<string, number>();
    const cloud = new Map<string, Dot>();
    for (const item of this.array(rawVv, 'a version vector')) {
      const { dot } = this.dot(item);
      if (vv.has(dot.actor)) this.fail('an actor appears twice');
      vv.set(dot.actor, dot.counter);
    }
    for (const item of this.array(rawCloud, 'a dot cloud')) {
      const { dot } = this.dot(item);
      if (dot.counter <= (vv.get(dot.actor) ?? 0)) this.fail('a cloud dot is covered by the vector');
      cloud.set(dotKey(dot), dot);
    }
    if (vv.size + cloud.size > this.limits.contextEntriesMax) this.fail(`more than ${this.limits.contextEntriesMax} context entries`);
    return { vv, cloud };
  }
}

function parseJson(text: string, reader: Reader): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return reader.fail('not JSON');
  }
}

/** Decodes a stored state (bounded by `limits`); anything else is a coded 409. */
export function decodeDataType(bytes: Uint8Array, limits: DataTypeLimits): DataType {
  const reader = new Reader(limits, 'KV_ERR_DT_TYPE_MISMATCH');
  if (bytes.length > limits.bytesMax) reader.fail(`larger than ${limits.bytesMax} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return reader.fail('not UTF-8');
  }
  const raw = parseJson(text, reader);
  if (typeof raw !== 'object' || raw === null || (raw as { ringkv?: unknown }).ringkv !== FORMAT) reader.fail(`not ${FORMAT}`);
  const { store, context } = raw as Record<string, unknown>;
  return { store: reader.store(store, 1), context: reader.context(context) };
}

/** Decodes a context token from a client; anything else is a coded 400 KV_ERR_BAD_CONTEXT. */
export function decodeContextToken(token: string, limits: DataTypeLimits): CausalContext {
  const reader = new Reader(limits, 'KV_ERR_BAD_CONTEXT');
  if (!/^[A-Za-z0-9_-]*$/.test(token) || token.length > limits.contextEntriesMax * (ACTOR_BYTES_MAX + 24)) reader.fail('not a base64url token of a bounded size');
  return reader.context(parseJson(Buffer.from(token, 'base64url').toString('utf8'), reader));
}
