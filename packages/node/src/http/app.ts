/**
 * The node's HTTP app as a value (STYLE.md §7): `createApp(deps)` returns a Hono app that
 * `node.ts` serves and tests drive with `app.request()`. It mounts the client routes (/kv/*),
 * the admin routes and the authenticated /internal/ routes, and owns the one error handler
 * that turns every failure into the catalog's JSON error body, 404 for unknown routes and 405
 * (with Allow) for known routes under the wrong method.
 */
import type { SkewEstimate } from '../membership/clock-skew.js';
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { KvError } from '../errors.js';
import { adminRoutes, type AdminDeps } from './admin-routes.js';
import { clientRoutes, type ClientDeps } from './client-routes.js';
import { internalRoutes, type InternalDeps } from './internal-routes.js';
import { accessRoutes, type AccessDeps } from './access.js';
import { healthRoutes } from './health-routes.js';
import { dashboardRoutes, type DashboardDeps } from './dashboard-routes.js';
import { dtRoutes } from './dt-routes.js';
import { listRoutes, type ListDeps } from './list-routes.js';
import { watchRoutes, type WatchLimits } from './watch-route.js';
import type { KeyWatchService } from '../replication/key-watch.js';

export interface AppDeps {
  readonly client: ClientDeps;
  readonly admin: AdminDeps;
  readonly internal: InternalDeps;
  /** Token and peer-certificate checks (http/access.ts); absent, every route is open (in-process tests). */
  readonly access?: AccessDeps;
  /** The ring dashboard (GET /ui and /admin/dashboard*, docs/dashboard.md); absent, not served. */
  readonly dashboard?: DashboardDeps;
  readonly logger: Logger;
  /** True once a graceful stop began: new requests get 503 KV_ERR_SHUTTING_DOWN. */
  readonly isStopping: () => boolean;
  /**
   * True while the node drains before a stop (node.drain): requests are still served, each
   * answer closes its connection (so clients reconnect, to other nodes once this one stops
   * listening), and /readyz says not ready.
   */
  readonly isDraining?: () => boolean;
  /** How far this node's clock is from its peers' (membership/clock-skew.ts), for /readyz. */
  readonly clock?: () => SkewEstimate;
  /** Whether this node's requests to a peer are being answered (peer-health.ts), for /readyz. */
  readonly answers?: (id: string) => boolean;
  /** GET /kv, listing keys (docs/listing.md); absent, not served. */
  readonly list?: ListDeps;
  /** Parked watches of keys (GET /kv/{key}?changed_since=, docs/watch.md); absent, changed_since is not served. */
  readonly watch?: { readonly service: KeyWatchService; readonly limits: WatchLimits };
}

function errorJson(c: Context, error: KvError, headers: Record<string, string> = {}): Response {
  return c.json(error.toBody(), error.status as 400, headers);
}

/** The order methods are listed in an Allow header. */
const METHOD_ORDER = ['GET', 'PUT', 'POST', 'DELETE'];

/**
 * Methods each registered route accepts, for 405 and its Allow header, read from the routes
 * themselves (a hand-kept table drifted: issue 14). A route ending in `/*` covers every path
 * under its prefix; middleware (`use`, method ALL) is not a route.
 */
export function allowTable(routes: ReadonlyArray<{ readonly method: string; readonly path: string }>): Array<[route: string, methods: string]> {
  const methods = new Map<string, Set<string>>();
  for (const { method, path } of routes) {
    if (!METHOD_ORDER.includes(method)) continue;
    const route = path.endsWith('/*') ? path.slice(0, -1) : path;
    let set = methods.get(route);
    if (set === undefined) methods.set(route, (set = new Set()));
    set.add(method);
  }
  return [...methods].map(([route, set]) => [route, METHOD_ORDER.filter((m) => set.has(m)).join(', ')]);
}

function allowFor(table: ReadonlyArray<[string, string]>, path: string): string | undefined {
  return table.find(([route]) => path === route || (route.endsWith('/') && path.startsWith(route)))?.[1];
}

/** Set on every answer of a node that is draining or stopping (docs/api.md). */
export const DRAINING_HEADER = 'x-ringkv-draining';

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    // A stopping node is still alive: only the liveness probe answers as usual.
    const closing = deps.isStopping() || deps.isDraining?.() === true;
    if (deps.isStopping() && c.req.path !== '/livez') {
      const refused = errorJson(c, new KvError('KV_ERR_SHUTTING_DOWN', 'the node is stopping; retry on another node'));
      refused.headers.set('connection', 'close');
      refused.headers.set(DRAINING_HEADER, '1');
      return refused;
    }
    await next();
    if (closing) {
      // Like HTTP/2's GOAWAY: this connection ends here, and the client library sends its next
      // requests to other nodes, so none is in flight here when the node stops.
      c.res.headers.set('connection', 'close');
      c.res.headers.set(DRAINING_HEADER, '1');
    }
  });

  // Before any route, so that a refused request is answered before its body is read.
  if (deps.access !== undefined) accessRoutes(app, deps.access);
  healthRoutes(app, { membership: deps.admin.membership, isStopping: deps.isStopping, ...(deps.isDraining ? { isDraining: deps.isDraining } : {}), ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.answers ? { answers: deps.answers } : {}) });
  // Before the /kv/{key} routes, whose pattern matches the bare /kv too.
  if (deps.list !== undefined) listRoutes(app, deps.list);
  // Before the plain GET, which it hands every request without changed_since.
  if (deps.watch !== undefined) watchRoutes(app, deps.client, deps.watch.service, deps.watch.limits);
  clientRoutes(app, deps.client);
  dtRoutes(app, deps.client);
  adminRoutes(app, deps.admin);
  if (deps.dashboard !== undefined) dashboardRoutes(app, deps.dashboard);
  internalRoutes(app, deps.internal);

  // After every route is registered; the routes do not change afterwards.
  const allowed = allowTable(app.routes);
  app.notFound((c) => {
    const allow = allowFor(allowed, c.req.path);
    if (allow !== undefined) {
      return errorJson(c, new KvError('KV_ERR_METHOD_NOT_ALLOWED', `${c.req.method} is not allowed here`, { allow }), { allow });
    }
    return errorJson(c, new KvError('KV_ERR_NO_ROUTE', `no route for ${c.req.method} ${c.req.path}`));
  });

  app.onError((error, c) => {
    if (error instanceof KvError) {
      // A body we refused to read is left on the socket: close the connection rather than drain
      // it. That includes every refused /internal/ request: its body is never read (auth.ts).
      const unread = error.code === 'KV_ERR_VALUE_TOO_LARGE' || (error.code === 'KV_ERR_UNAUTHORIZED' && c.req.path.startsWith('/internal/'));
      const headers: Record<string, string> = unread ? { connection: 'close' } : {};
      if (error.status >= 500) deps.logger.warn({ err: error, code: error.code }, 'request failed');
      return errorJson(c, error, headers);
    }
    deps.logger.error({ err: error, path: c.req.path, method: c.req.method }, 'unexpected error');
    return errorJson(c, new KvError('KV_ERR_INTERNAL', 'internal error; see the node log'));
  });

  return app;
}
