/**
 * The error catalog: every coded error a node can return, with its HTTP status, in one table.
 * Clients (packages/client) and the server (packages/node) both read it, so a code means the
 * same thing on both sides of the wire. `docs/errors.md` documents every row; a test checks
 * that the two agree. Codes are stable: add rows, never rename or reuse one.
 *
 * Model: undici `lib/core/errors.js` and fastify's `lib/errors.js` with its docs test.
 */
export const errorCatalog = {
  KV_ERR_BAD_KEY: { status: 400, summary: 'The key is empty, not valid percent-encoded UTF-8, or longer than the key limit.' },
  KV_ERR_BAD_QUORUM: { status: 400, summary: 'r or w is not an integer between 1 and N.' },
  KV_ERR_BAD_TIMEOUT: { status: 400, summary: 'timeout_ms is not an integer between 1 and the configured maximum.' },
  KV_ERR_BAD_CONTEXT: { status: 400, summary: 'The X-Ringkv-Context header is not a context this store issued (bad encoding, version, size or content).' },
  KV_ERR_BAD_REQUEST: { status: 400, summary: 'The request is malformed in another way (unknown option value, bad header).' },
  KV_ERR_UNAUTHORIZED: { status: 401, summary: 'The request lacked valid authentication: an /internal/ request without the cluster\'s signature or a verified peer certificate, an admin request without the admin token, or (with --auth-file) a client request without a known token.' },
  KV_ERR_FORBIDDEN: { status: 403, summary: 'The token is valid but not granted this operation on this key (--auth-file grants).' },
  KV_ERR_NOT_FOUND: { status: 404, summary: 'The key has no live value (never written, or deleted).' },
  KV_ERR_NO_ROUTE: { status: 404, summary: 'No route matches the request path.' },
  KV_ERR_METHOD_NOT_ALLOWED: { status: 405, summary: 'The route exists but not for this method; the Allow header lists the methods it takes.' },
  KV_ERR_DT_BAD_OPERATION: { status: 400, summary: 'POST /dt/{key}: the body is not a valid data type operation (not JSON, an unknown field, a wrong value, or past a bound: items, nesting, string or register size).' },
  KV_ERR_DT_TYPE_MISMATCH: { status: 409, summary: 'The key (or a map field) holds another data type than the operation is for, or a plain /kv value (or siblings of different types); nothing was written.' },
  KV_ERR_TOO_MANY_SIBLINGS: { status: 409, summary: 'The write would make the key hold more siblings than the per-key limit; read the key and write back with its context to resolve them.' },
  KV_ERR_VALUE_TOO_LARGE: { status: 413, summary: 'The request body is larger than the value limit (checked against Content-Length first, then while streaming).' },
  KV_ERR_DT_TOO_LARGE: { status: 413, summary: 'The data type would grow past its bound (entries or encoded bytes); nothing was written. Remove elements or fields first.' },
  KV_ERR_INTERNAL: { status: 500, summary: 'A bug: the node hit an unexpected condition. The message and the node log say where.' },
  KV_ERR_STORAGE: { status: 500, summary: 'The storage engine failed to read or write (I/O error). Nothing was acknowledged.' },
  KV_ERR_QUORUM_UNMET: { status: 503, summary: 'Fewer replicas than r or w answered (or could still answer); details give needed and answered.' },
  KV_ERR_PEER_UNREACHABLE: { status: 503, summary: 'A peer node could not be reached or refused an internal request (internal; surfaces as replica failures).' },
  KV_ERR_PEER_PROTOCOL: { status: 503, summary: 'A peer broke the node-to-node stream protocol (a malformed, oversize or unknown frame, an answer to no request, a body that does not decode); that connection was closed and logged with the reason (internal; surfaces as replica failures).' },
  KV_ERR_OVERLOADED: { status: 503, summary: 'Too many requests are queued for a peer node; the request was refused instead of queued without bound. Retry later.' },
  KV_ERR_TOO_MANY_WATCHERS: { status: 503, summary: 'GET /kv/{key}?changed_since=: this node already holds as many parked watches as its bound (watchersMax); retry later or on another node.' },
  KV_ERR_NOT_READY: { status: 503, summary: 'GET /readyz: the node should not receive traffic now (stopping, leaving, not a ring member, or a quorum of the ring unreachable); details list the reasons.' },
  KV_ERR_SHUTTING_DOWN: { status: 503, summary: 'The node is stopping and accepts no new requests; retry on another node.' },
  KV_ERR_TIMEOUT: { status: 504, summary: 'The request did not complete within timeout_ms; details give needed and answered.' },
  KV_ERR_HINTS_FULL: { status: 507, summary: 'A fallback node holds as many hints for the unreachable owner as its bounds allow; the hinted write counted as failed there.' },
  KV_ERR_STORAGE_FULL: { status: 507, summary: 'The disk is full; the write was not stored.' },
  KV_ERR_CONFIG: { status: 500, summary: 'Start-up only: the configuration is invalid (the process exits with status 2).' },
  KV_ERR_DATA_DIR: { status: 500, summary: 'Start-up only: the data directory cannot be created or written (the process exits with status 2).' },
  KV_ERR_STORAGE_CORRUPT: { status: 500, summary: 'Start-up only: the database file is not a ringkv SQLite database or fails its integrity check (the process exits with status 2).' },
  KV_ERR_PRECONDITION: { status: 412, summary: 'A compare-and-set (if_version, if_absent) found its condition false; nothing was written. Details give the current version (docs/cas.md).' },
  KV_ERR_REQUEST_ID_REUSED: { status: 422, summary: 'A PUT or DELETE carried an X-Ringkv-Request-Id that an earlier write to this key used with another value, content type or method; nothing was written. Use a fresh id for a new write (docs/idempotency.md).' },
} as const satisfies Record<string, { status: number; summary: string }>;

/** A stable error code, such as `KV_ERR_QUORUM_UNMET`. */
export type ErrorCode = keyof typeof errorCatalog;

/** The HTTP status that goes with a code; the one place that mapping lives. */
export function statusOf(code: ErrorCode): number {
  return errorCatalog[code].status;
}

/** True when `value` is one of the catalog's codes (used to validate what a peer sent). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalog, value);
}

/** Extra, code-specific fields of an error body (for example `needed` and `answered`). */
export type ErrorDetails = Record<string, string | number | boolean | null>;

/** The JSON body of every error response: `{"error": {"code", "message", ...details}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string } & ErrorDetails;
}
