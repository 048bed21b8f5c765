/**
 * Coded errors for everything a user, a peer or a disk can do wrong (STYLE.md §11). The code
 * and its HTTP status come from the one catalog in @ringkv/protocol; bugs use node:assert.
 */
import { errorCatalog, statusOf, type ErrorBody, type ErrorCode, type ErrorDetails } from '@ringkv/protocol';

export class KvError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KvError';
    this.code = code;
    this.details = details;
  }

  /** The HTTP status this error maps to (from the catalog, never chosen at the throw site). */
  get status(): number {
    return statusOf(this.code);
  }

  /** The JSON error body of the HTTP contract. */
  toBody(): ErrorBody {
    // code and message lead (easier to read in logs) and cannot be overridden by a detail.
    const error = { code: this.code, message: this.message, ...this.details };
    error.code = this.code;
    error.message = this.message;
    return { error };
  }
}

/** True for a KvError carrying `code` (or any KvError when no code is given). */
export function isKvError(error: unknown, code?: ErrorCode): error is KvError {
  return error instanceof KvError && (code === undefined || error.code === code);
}

export { errorCatalog };
