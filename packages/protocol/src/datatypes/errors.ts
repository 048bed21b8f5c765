/**
 * The one error the data types throw: a catalog code (errors.ts) and details. Pure code shared
 * by the server (which turns it into a KvError) and the client library (which validates what it
 * sends and decodes with the same code), so both sides name a failure the same way.
 */
import type { ErrorCode, ErrorDetails } from '../errors.js';

/** A coded failure of a data type operation, body or stored value. */
export class DataTypeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DataTypeError';
  }
}
