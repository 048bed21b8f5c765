/**
 * The value a CAS register holds on a server: the bytes a client PUT and their content type, as
 * an ordinary sibling carries them (core/versioned.ts). Pure.
 */

/** A CAS register's value. */
export interface CasValue {
  readonly data: Uint8Array;
  readonly contentType: string;
}

/** Byte-wise equality of data and content type: what a compare-by-value condition compares. */
export function casValuesEqual(a: CasValue, b: CasValue): boolean {
  if (a.contentType !== b.contentType || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}
