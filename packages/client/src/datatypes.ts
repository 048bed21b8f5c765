/**
 * Client side of the data types (docs/datatypes.md): the shapes of `/dt/{key}` answers and the
 * operations the client's methods build. Operations are checked with the same parser the
 * nodes use (@ringkv/protocol), so a malformed one fails here, with the server's code, before
 * anything is sent.
 */
import { DataTypeError, defaultDataTypeLimits, parseOperation, type Json } from '@ringkv/protocol';
import { RingkvError } from './errors.js';
import type { CallOptions, WriteOptions } from './types.js';

/** A key's data type as a node answers it. */
export interface DataTypeValue {
  /** 'counter', 'set' or 'map'. */
  readonly type: 'counter' | 'set' | 'map';
  /** A counter's number, a set's sorted elements, a map's fields as an object. */
  readonly value: Json;
  /** Opaque causal context: send it with a removal to remove only what this read saw. */
  readonly context: string;
}

export interface DataTypeReadOptions extends CallOptions {
  readonly r?: number;
}

/** A data type write reads at `r`, then writes at `w`, within one `timeoutMs`. */
export interface DataTypeWriteOptions extends WriteOptions {
  readonly r?: number;
}

/** Options of a removal: the context of the read whose elements or fields it removes. */
export interface DataTypeRemoveOptions extends DataTypeWriteOptions {
  readonly context?: string;
}

/** A map operation: field operations (nested maps nest `update`) and fields to remove. */
export interface MapOperation {
  readonly update?: Record<string, unknown>;
  readonly remove?: readonly string[];
  readonly context?: string;
}

/** Throws the server's coded error for an operation the nodes would refuse. */
export function checkOperation(op: unknown): unknown {
  try {
    parseOperation(op, defaultDataTypeLimits);
  } catch (error) {
    if (error instanceof DataTypeError) throw new RingkvError(error.code, error.message, 400, error.details, { mayHaveApplied: false });
    throw error;
  }
  return op;
}

/** The value of a 200 answer of /dt, checked for shape. */
export function dataTypeValue(body: unknown): DataTypeValue {
  const value = body as Partial<DataTypeValue> | undefined;
  if (value === undefined || !['counter', 'set', 'map'].includes(value.type as string) || typeof value.context !== 'string' || !('value' in value)) {
    throw new RingkvError('KV_ERR_BAD_RESPONSE', 'a /dt answer without type, value and context', 200);
  }
  return value as DataTypeValue;
}
