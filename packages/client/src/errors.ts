/**
 * Errors the client raises. Server answers keep the server's code (the catalog in
 * @ringkv/protocol) and status; failures to get any answer use the client-only code
 * `KV_ERR_UNREACHABLE`, and answers that break the contract `KV_ERR_BAD_RESPONSE`.
 */
import { isErrorCode, type ErrorCode, type ErrorDetails } from '@ringkv/protocol';

export type ClientErrorCode = ErrorCode | 'KV_ERR_UNREACHABLE' | 'KV_ERR_BAD_RESPONSE';

export class RingkvError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** HTTP status of the server's answer; 0 when no answer came. */
    readonly status: number,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RingkvError';
  }
}

/** Builds the error for a non-success answer from its JSON body (tolerating a bad body). */
export function errorFromResponse(status: number, body: unknown, url: string): RingkvError {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  if (error !== undefined && isErrorCode(error.code)) {
    const { code, message, ...details } = error;
    return new RingkvError(code, String(message ?? code), status, details as ErrorDetails);
  }
  return new RingkvError('KV_ERR_BAD_RESPONSE', `unexpected ${status} answer from ${url}`, status);
}
