/**
 * Errors the client raises. Server answers keep the server's code (the catalog in
 * @ringkv/protocol) and status; failures to get any answer use client-only codes:
 * `KV_ERR_UNREACHABLE` (the request surely reached no node), `KV_ERR_OUTCOME_UNKNOWN` (a write
 * was sent but no answer came: it may or may not have been applied; read before retrying),
 * `KV_ERR_ABORTED` (the caller's AbortSignal fired before the request was sent, or during a
 * read), `KV_ERR_BAD_RESPONSE` (an answer that breaks the contract), `KV_ERR_BAD_VALUE` (a value
 * the codec cannot decode) and `KV_ERR_UNRESOLVED_SIBLINGS` (update() met siblings and was given
 * no resolver).
 *
 * Every error says whether a write it reports may have been applied (`mayHaveApplied`): the one
 * question a caller must answer before retrying a write (docs/client.md, "Errors").
 */
import { isErrorCode, type ErrorCode, type ErrorDetails } from '@ringkv/protocol';

export type ClientErrorCode =
  | ErrorCode
  | 'KV_ERR_UNREACHABLE'
  | 'KV_ERR_OUTCOME_UNKNOWN'
  | 'KV_ERR_BAD_RESPONSE'
  | 'KV_ERR_ABORTED'
  | 'KV_ERR_BAD_VALUE'
  | 'KV_ERR_UNRESOLVED_SIBLINGS';

export interface RingkvErrorOptions {
  readonly cause?: unknown;
  /** True when the failed request was a write that may nevertheless have been applied. */
  readonly mayHaveApplied?: boolean;
}

export class RingkvError extends Error {
  /**
   * True when this error reports a write (put, delete, an update's write-back) that may have
   * been applied anyway: no answer came after it was sent, or a node answered that the quorum
   * was missed or timed out after it started. False when the write surely did not happen, and
   * for every read.
   */
  readonly mayHaveApplied: boolean;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** HTTP status of the server's answer; 0 when no answer came. */
    readonly status: number,
    readonly details: ErrorDetails = {},
    options: RingkvErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RingkvError';
    this.mayHaveApplied = options.mayHaveApplied ?? false;
  }
}

/**
 * A write was sent (or may have been) and no answer came: a timeout after sending, a reset, a
 * node that stopped mid-request, or the caller's abort after the request left. It may or may
 * not have been applied. Code `KV_ERR_OUTCOME_UNKNOWN`, status 0, `mayHaveApplied` true;
 * `details.url` names the node, `details.aborted` is true when the caller's signal caused it.
 */
export class OutcomeUnknownError extends RingkvError {
  constructor(message: string, details: ErrorDetails = {}, options: { cause?: unknown } = {}) {
    super('KV_ERR_OUTCOME_UNKNOWN', message, 0, details, { ...options, mayHaveApplied: true });
    this.name = 'OutcomeUnknownError';
  }
}

/**
 * No node could be reached within the retry budget (refused connections, unknown hosts, and for
 * reads also resets and timeouts). A write reported this way reached no node: it did not happen.
 * Code `KV_ERR_UNREACHABLE`, status 0.
 */
export class UnreachableError extends RingkvError {
  constructor(message: string, details: ErrorDetails = {}, options: { cause?: unknown } = {}) {
    super('KV_ERR_UNREACHABLE', message, 0, details, options);
    this.name = 'UnreachableError';
  }
}

/**
 * The caller's AbortSignal fired while nothing had been applied: before the request was sent,
 * or during a read. Its `name` is 'AbortError', as with fetch, so code that already tells
 * aborts from failures by name keeps working; its code is `KV_ERR_ABORTED` and `cause` is the
 * signal's reason. A write aborted after it was sent is an OutcomeUnknownError instead.
 */
export class RingkvAbortError extends RingkvError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('KV_ERR_ABORTED', message, 0, {}, options);
    this.name = 'AbortError';
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

/**
 * Server answers to a write that say it was not applied anywhere: refused before any work (every
 * 4xx: bad input, auth, too many siblings, value too large), or refused by a node that could
 * not attempt it (stopping, overloaded, a quorum it saw as unreachable before sending:
 * `attempted: false`). Any other 5xx (a timeout, a quorum missed after sending, a storage
 * failure on one replica) leaves replicas that may hold it.
 */
export function writeSurelyNotApplied(status: number, code: ClientErrorCode, details: ErrorDetails): boolean {
  if (status >= 400 && status < 500) return true;
  return code === 'KV_ERR_SHUTTING_DOWN' || code === 'KV_ERR_OVERLOADED' || details.attempted === false;
}

/**
 * Builds the error for a non-success answer from its JSON body (tolerating a bad body). For a
 * write (`isWrite`), `mayHaveApplied` says whether the answer leaves its outcome open.
 */
export function errorFromResponse(status: number, body: unknown, url: string, isWrite = false): RingkvError {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  if (error !== undefined && isErrorCode(error.code)) {
    const { code, message, ...rest } = error;
    const details = rest as ErrorDetails;
    return new RingkvError(code, String(message ?? code), status, details, { mayHaveApplied: isWrite && !writeSurelyNotApplied(status, code, details) });
  }
  return new RingkvError('KV_ERR_BAD_RESPONSE', `unexpected ${status} answer from ${url}`, status, {}, { mayHaveApplied: isWrite && status >= 500 });
}
