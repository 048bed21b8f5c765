/**
 * Client tokens and their grants (`--auth-file`, SPEC.md "Security"): a pure parser that
 * validates the file's JSON into a table keyed by token digest, and the decision for one
 * request. The file holds only SHA-256 digests of the tokens, so reading it does not reveal
 * them. Model: etcd's roles over key prefixes (`etcdctl role grant-permission --prefix`).
 *
 * ```json
 * {"tokens": [{"name": "app", "sha256": "<64 hex>", "grants": [{"prefix": "cart/", "ops": ["read", "write"]}]}]}
 * ```
 * `write` covers PUT and DELETE; a key is granted when it starts with a grant's prefix (the
 * empty prefix is every key).
 */
import { KvError } from '../errors.js';

export type Operation = 'read' | 'write';

export interface Grant {
  readonly prefix: string;
  readonly ops: ReadonlySet<Operation>;
}

export interface ClientToken {
  readonly name: string;
  readonly grants: readonly Grant[];
}

/** Valid tokens by the hex SHA-256 of the token. */
export type TokenTable = ReadonlyMap<string, ClientToken>;

/** Bounds of an auth file, so a mistaken or hostile file cannot make every request slow. */
export const AUTH_FILE_BYTES_MAX = 4 * 1024 * 1024;
export const AUTH_TOKENS_MAX = 10_000;
export const AUTH_GRANTS_PER_TOKEN_MAX = 256;
export const AUTH_PREFIX_BYTES_MAX = 1024;

const OPERATIONS: readonly Operation[] = ['read', 'write'];

function invalid(where: string, message: string): never {
  throw new KvError('KV_ERR_CONFIG', `invalid auth file: ${where} ${message}`, { field: 'authFile', at: where });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses fields the format does not have, so a typo ("grant") is an error, not a silent no-op. */
function onlyFields(value: Record<string, unknown>, where: string, allowed: readonly string[]): void {
  const extra = Object.keys(value).find((field) => !allowed.includes(field));
  if (extra !== undefined) invalid(where, `has unknown field "${extra}" (allowed: ${allowed.join(', ')})`);
}

function parseGrant(raw: unknown, where: string): Grant {
  if (!isObject(raw)) invalid(where, 'must be an object {"prefix", "ops"}');
  onlyFields(raw, where, ['prefix', 'ops']);
  if (typeof raw.prefix !== 'string') invalid(`${where}.prefix`, 'must be a string ("" grants every key)');
  if (Buffer.byteLength(raw.prefix) > AUTH_PREFIX_BYTES_MAX) invalid(`${where}.prefix`, `is longer than ${AUTH_PREFIX_BYTES_MAX} bytes`);
  if (!Array.isArray(raw.ops) || raw.ops.length === 0) invalid(`${where}.ops`, 'must be a non-empty array of "read" and "write"');
  for (const op of raw.ops) if (!OPERATIONS.includes(op as Operation)) invalid(`${where}.ops`, `holds ${JSON.stringify(op)}; only "read" and "write" exist`);
  return { prefix: raw.prefix, ops: new Set(raw.ops as Operation[]) };
}

function parseToken(raw: unknown, where: string, names: Set<string>): [digest: string, token: ClientToken] {
  if (!isObject(raw)) invalid(where, 'must be an object {"name", "sha256", "grants"}');
  onlyFields(raw, where, ['name', 'sha256', 'grants']);
  if (typeof raw.name !== 'string' || !/^[A-Za-z0-9._@-]{1,64}$/.test(raw.name)) invalid(`${where}.name`, 'must be 1-64 characters of A-Z a-z 0-9 . _ @ -');
  if (names.has(raw.name)) invalid(`${where}.name`, `"${raw.name}" is used twice`);
  names.add(raw.name);
  if (typeof raw.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(raw.sha256)) invalid(`${where}.sha256`, 'must be the 64 hex digits of the token\'s SHA-256');
  if (!Array.isArray(raw.grants)) invalid(`${where}.grants`, 'must be an array (may be empty)');
  if (raw.grants.length > AUTH_GRANTS_PER_TOKEN_MAX) invalid(`${where}.grants`, `has more than ${AUTH_GRANTS_PER_TOKEN_MAX} entries`);
  const grants = raw.grants.map((grant, i) => parseGrant(grant, `${where}.grants[${i}]`));
  return [raw.sha256.toLowerCase(), { name: raw.name, grants }];
}

/** Parses and validates an auth file's text; every problem is a KV_ERR_CONFIG naming where. */
export function parseAuthFile(text: string): TokenTable {
  if (Buffer.byteLength(text) > AUTH_FILE_BYTES_MAX) invalid('file', `is larger than ${AUTH_FILE_BYTES_MAX} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    invalid('file', `is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(raw)) invalid('file', 'must be a JSON object {"tokens": [...]}');
  onlyFields(raw, 'file', ['tokens']);
  if (!Array.isArray(raw.tokens)) invalid('tokens', 'must be an array');
  if (raw.tokens.length > AUTH_TOKENS_MAX) invalid('tokens', `has more than ${AUTH_TOKENS_MAX} entries`);
  const table = new Map<string, ClientToken>();
  const names = new Set<string>();
  raw.tokens.forEach((entry, i) => {
    const [digest, token] = parseToken(entry, `tokens[${i}]`, names);
    if (table.has(digest)) invalid(`tokens[${i}].sha256`, `is the same as token "${table.get(digest)!.name}"'s`);
    table.set(digest, token);
  });
  return table;
}

/** True when one of the token's grants covers `op` on `key`. */
export function granted(token: ClientToken, key: string, op: Operation): boolean {
  return token.grants.some((grant) => grant.ops.has(op) && key.startsWith(grant.prefix));
}
