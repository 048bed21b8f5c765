/**
 * Who may use which route of the client port (docs/security.md), checked before any route
 * handler runs and before a request body is read. The guards are mounted on the same path
 * patterns as the routes, so a path the router would match (percent-encoded or not) is
 * guarded alike.
 *
 * - `/admin/local/*` and every non-GET `/admin/*` route: the admin token, else 401.
 * - read-only `/admin/*` and `/metrics`: open; with client tokens (`--auth-file`) on, the admin
 *   token or any valid client token, else 401.
 * - `/kv/*` and `/dt/*`: open; with client tokens on, a token granting the operation on the key
 *   (401 without a known token, 403 when not granted; a /dt POST is a write); the admin token
 *   may do everything. `GET /kv` (listing) lists only the granted prefixes under the one asked
 *   (403 when none).
 * - `/internal/*`: with `--tls-ca`, only over a connection whose client certificate verified
 *   against the ring's CA (401 otherwise); the cluster signature is checked after this by the
 *   internal routes themselves.
 * - `/livez`, `/readyz` and unknown paths: open (probes must work without secrets).
 */
import type { TLSSocket } from 'node:tls';
import type { Context, Hono, Next } from 'hono';
import { KvError } from '../errors.js';
import { bearerToken, sameToken, tokenDigest } from '../access/bearer.js';
import { granted, type Operation, type TokenTable } from '../access/client-tokens.js';
import { listablePrefixes, listGrants } from '../access/list-grants.js';
import { declaresBody, headerOf, incomingOf, parseKey } from './parse.js';

export interface AccessDeps {
  /** The admin token; '' refuses every admin-only request. */
  readonly adminToken: string;
  /** The client tokens in force (reloaded on SIGHUP), or undefined when client auth is off. */
  readonly clientTokens: () => TokenTable | undefined;
  /** True with `--tls-ca`: /internal/ requests need a verified peer certificate. */
  readonly peerCertificateRequired: boolean;
  readonly keyBytesMax: number;
  /** Counts a refusal for /metrics (`area`: admin, kv, metrics, internal; `code`). */
  readonly refused?: (area: string, code: string) => void;
}

const CHALLENGE = 'Bearer realm="ringkv"';

function refuse(c: Context, deps: AccessDeps, area: string, error: KvError): Response {
  deps.refused?.(area, error.code);
  const headers: Record<string, string> = error.status === 401 ? { 'www-authenticate': CHALLENGE } : {};
  // A refused body is never read: close the connection rather than drain what a stranger sends.
  if (declaresBody(c)) headers.connection = 'close';
  return c.json(error.toBody(), error.status as 401, headers);
}

const unauthorized = (message: string) => new KvError('KV_ERR_UNAUTHORIZED', message);

function operationOf(method: string): Operation | undefined {
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'PUT' || method === 'DELETE') return 'write';
  return undefined;
}

/** True when the request came over TLS with a client certificate that verified. */
function peerVerified(c: Context): boolean {
  const socket = incomingOf(c)?.socket as Partial<TLSSocket> | undefined;
  return socket?.encrypted === true && socket.authorized === true;
}

export function accessRoutes(app: Hono, deps: AccessDeps): void {
  const token = (c: Context) => bearerToken(headerOf(c, 'authorization'));
  const isAdmin = (c: Context) => sameToken(token(c), deps.adminToken);
  const clientOf = (c: Context, tokens: TokenTable) => {
    const presented = token(c);
    return presented === undefined ? undefined : tokens.get(tokenDigest(presented).toString('hex'));
  };

  app.use('/internal/*', async (c: Context, next: Next) => {
    if (deps.peerCertificateRequired && !peerVerified(c)) {
      return refuse(c, deps, 'internal', unauthorized('internal requests need a client certificate signed by the ring\'s CA (--tls-ca)'));
    }
    return next();
  });

  const readOnly = async (c: Context, next: Next, area: string) => {
    const tokens = deps.clientTokens();
    if (tokens === undefined || isAdmin(c) || clientOf(c, tokens) !== undefined) return next();
    return refuse(c, deps, area, unauthorized('this route needs the admin token or a client token (Authorization: Bearer <token>)'));
  };

  app.use('/admin/*', async (c: Context, next: Next) => {
    const adminOnly = c.req.path.startsWith('/admin/local/') || (c.req.method !== 'GET' && c.req.method !== 'HEAD');
    if (!adminOnly) return readOnly(c, next, 'admin');
    if (isAdmin(c)) return next();
    return refuse(c, deps, 'admin', unauthorized('this admin route needs the admin token (Authorization: Bearer <admin token>)'));
  });

  app.use('/metrics', (c: Context, next: Next) => readOnly(c, next, 'metrics'));

  // /dt/ (data types, docs/datatypes.md) is guarded as /kv/ is, its POST being a write.
  for (const prefix of ['/kv/', '/dt/']) app.use(`${prefix}*`, async (c: Context, next: Next) => {
    const tokens = deps.clientTokens();
    if (tokens === undefined || isAdmin(c)) return next();
    const client = clientOf(c, tokens);
    if (client === undefined) return refuse(c, deps, 'kv', unauthorized('a known client token is required (Authorization: Bearer <token>)'));
    const op = prefix === '/dt/' && c.req.method === 'POST' ? 'write' : operationOf(c.req.method);
    if (op === undefined) return next(); // the router answers 405
    let key: string;
    try {
      key = parseKey(c.req.url, prefix, deps.keyBytesMax);
    } catch {
      return next(); // the route answers 400 for the malformed key
    }
    if (granted(client, key, op)) return next();
    return refuse(c, deps, 'kv', new KvError('KV_ERR_FORBIDDEN', `token "${client.name}" is not granted ${op} on this key`, { token: client.name, op }));
  });

  // GET /kv, listing keys (docs/listing.md): the guard above lets the bare path through (it
  // names no key); here the prefix asked is intersected with the token's read grants, and the
  // route lists only what remains (access/list-grants.ts).
  app.use('/kv', async (c: Context, next: Next) => {
    const tokens = deps.clientTokens();
    if (tokens === undefined || isAdmin(c) || (c.req.method !== 'GET' && c.req.method !== 'HEAD')) return next();
    const client = clientOf(c, tokens);
    if (client === undefined) return refuse(c, deps, 'kv', unauthorized('a known client token is required (Authorization: Bearer <token>)'));
    const prefixes = listablePrefixes(client, c.req.query('prefix') ?? '');
    if (prefixes.length === 0) {
      return refuse(c, deps, 'kv', new KvError('KV_ERR_FORBIDDEN', `token "${client.name}" is not granted read on any key under this prefix`, { token: client.name, op: 'read' }));
    }
    listGrants.set(c.req.raw, prefixes);
    return next();
  });
}
