/**
 * Wire names of compare-and-set (docs/cas.md, docs/api.md), shared by the server and the
 * client: the header a client names a write by, so that a retry after an unknown outcome is
 * applied at most once, and the header that carries a CAS key's version.
 */

/** Optional on a CAS write: the client's id for it; a retry with the same id applies at most once. */
export const REQUEST_ID_HEADER = 'x-ringkv-request-id';
/** On CAS answers: the key's version (changes applied so far; 0 = never written through CAS). */
export const CAS_VERSION_HEADER = 'x-ringkv-version';
/** Longest request id, in bytes. */
export const REQUEST_ID_BYTES_MAX = 128;
/** A request id: 1 to REQUEST_ID_BYTES_MAX characters of A-Z a-z 0-9 . _ : - */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * Request ids a CAS key remembers: those of its last this-many applied changes (a change at
 * version X is recognised by a retry while the key is at version X + CAS_RECENT_REQUEST_IDS - 1
 * or below). A retry after an unknown outcome that finds its id gone and the key further on
 * cannot tell "never applied" from "applied, then pushed out": its 412 is not an answer
 * (casRetryConclusive; docs/cas.md "Idempotent retries").
 */
export const CAS_RECENT_REQUEST_IDS = 16;

/**
 * Whether a 412 answering a RETRY (an earlier send of the same request id had an unknown
 * outcome) proves the change was never applied: true when the id would still be among the
 * key's recent ones had it applied. `ifVersion` (a version condition: it would have applied at
 * ifVersion + 1) or, for if_absent, at version 1 at the earliest; `version` is the one the 412
 * reports.
 */
export function casRetryConclusive(version: number, ifVersion: number | undefined): boolean {
  const appliedAtLeast = ifVersion === undefined ? 1 : ifVersion + 1;
  return version <= appliedAtLeast + CAS_RECENT_REQUEST_IDS - 1;
}

/** Largest version `if_version` may name: JavaScript's safe integers. */
export const CAS_VERSION_MAX = Number.MAX_SAFE_INTEGER;
