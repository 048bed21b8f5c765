/**
 * Errors the client raises. Server answers keep the server's code (the catalog in
 * @ringkv/protocol) and status; failures to get any answer use the client-only code
 * `KV_ERR_UNREACHABLE` (the request surely reached no node), `KV_ERR_OUTCOME_UNKNOWN` (a write
 * was sent but no answer came: it may or may not have been applied; read before retrying), and
 * answers that break the contract `KV_ERR_BAD_RESPONSE`.
 */
import { isErrorCode, type ErrorCode, type ErrorDetails } from '@ringkv/protocol';

export type ClientErrorCode = ErrorCode | 'KV_ERR_UNREACHABLE' | 'KV_ERR_OUTCOME_UNKNOWN' | 'KV_ERR_BAD_RESPONSE';

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

/**
 * Transport failures that prove the request never reached the node (no connection was made),
 * so a write may be sent elsewhere without being applied twice. Anything else (a reset, a
 * header or body timeout, a socket closed mid-answer) happened after the request may have been
 * delivered.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/** True when `error` (from undici) shows the request was never sent. */
export function neverSent(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (NOT_SENT_CODES.has((e as { code?: string }).code ?? '')) return true;
  }
  return false;
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
