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
/** Largest version `if_version` may name: JavaScript's safe integers. */
export const CAS_VERSION_MAX = Number.MAX_SAFE_INTEGER;
