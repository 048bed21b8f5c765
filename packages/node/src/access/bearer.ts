/**
 * Bearer tokens on the client port (RFC 6750 §2.1): parsing `Authorization: Bearer <token>`
 * and comparing a presented token with a secret one in constant time. The admin token and the
 * client tokens of `--auth-file` both travel this way. A browser form cannot set an
 * Authorization header, so a page the operator happens to open cannot forge an admin request
 * (the CSRF of issue #18); cookies are never used.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Longest token accepted; a longer header is treated as no token (nothing is hashed). */
export const TOKEN_BYTES_MAX = 512;

/** Characters a token may hold: visible ASCII, so it fits a header and a shell argument. */
export const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/** SHA-256 of a token, the form `--auth-file` stores and the tables are keyed by. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined when the header is
 * absent, uses another scheme, or is malformed or too long (all of which mean "no token").
 * The scheme is case-insensitive (RFC 7235 §2.1).
 */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (header === undefined || header === null || header.length > TOKEN_BYTES_MAX + 16) return undefined;
  const match = /^bearer +(\S+) *$/i.exec(header);
  const token = match?.[1];
  if (token === undefined || token.length > TOKEN_BYTES_MAX || !TOKEN_PATTERN.test(token)) return undefined;
  return token;
}

/**
 * True when `presented` equals `expected`, in time independent of where they differ: both are
 * hashed first, so even their lengths do not leak. An empty `expected` matches nothing (a node
 * without an admin token refuses every admin request).
 */
export function sameToken(presented: string | undefined, expected: string): boolean {
  if (presented === undefined || expected.length === 0) return false;
  return timingSafeEqual(tokenDigest(presented), tokenDigest(expected));
}
