/**
 * What a client token may list (docs/listing.md, docs/security.md): the requested prefix
 * intersected with the token's read grants. Keys a listing returns must start with the
 * requested prefix and with some granted prefix, so the answer is either the requested prefix
 * itself (a grant covers it) or the granted prefixes that lie under it; none means 403, as a
 * GET of a key outside every grant is. Pure.
 */
import type { ClientToken } from './client-tokens.js';
import { compareKeys } from '../storage/key-listing.js';

/**
 * The prefixes to list for `requested`, disjoint and in byte order (so listing them one after
 * the other gives one ordered listing); empty when nothing under `requested` is granted.
 */
export function listablePrefixes(token: ClientToken, requested: string): string[] {
  const readable = token.grants.filter((grant) => grant.ops.has('read')).map((grant) => grant.prefix);
  if (readable.some((prefix) => requested.startsWith(prefix))) return [requested];
  const under = [...new Set(readable.filter((prefix) => prefix.startsWith(requested)))];
  // A granted prefix under another granted one adds nothing and would list its keys twice.
  return under.filter((prefix) => !under.some((other) => other !== prefix && prefix.startsWith(other))).sort(compareKeys);
}

/**
 * The prefixes the access check decided for a listing request, handed to the route
 * (http/list-routes.ts); a request without an entry is unrestricted (client tokens off, or
 * the admin token).
 */
export const listGrants = new WeakMap<Request, readonly string[]>();
