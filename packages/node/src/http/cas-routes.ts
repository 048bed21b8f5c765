/**
 * Compare-and-set on /kv/{key} (docs/cas.md, docs/api.md): `PUT ?if_version=V`, `PUT
 * ?if_absent=1`, `PUT|DELETE ?consistent=1` and `GET ?consistent=1`, each one Paxos round
 * (replication/cas-coordinator.ts) over a majority of the key's preference list. A request
 * without these options is not touched: it goes on to the causal routes (client-routes.ts).
 *
 * Answers: a set that applied → 204; a condition that failed → 412 KV_ERR_PRECONDITION with the
 * current version; a read → 200 with the value, or 404; every answer about the register carries
 * X-Ringkv-Version. A round that could not finish → 504 KV_ERR_TIMEOUT with `maybeApplied: true`
 * when an accept of the change may have gone out (retry with the same X-Ringkv-Request-Id to
 * learn the outcome), 503 KV_ERR_QUORUM_UNMET with `attempted: false` when it surely did not apply.
 */
import type { Hono } from 'hono';
import { CAS_VERSION_HEADER } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import type { CasValue } from '../consensus/cas-value.js';
import type { CasDecision } from '../consensus/proposer.js';
import type { Change, RegisterState } from '../consensus/register-state.js';
import { parseCas, type CasRequest, type ClientLimits } from './parse.js';
import { incomingOf, readBody } from './request.js';
import { notJoined } from '../replication/cas-layout.js';

/** What the routes need of the node. */
export interface CasDeps {
  /** Runs one request's Paxos rounds (CasCoordinator.run). */
  run(key: string, change: Change<CasValue>, timeoutMs: number): Promise<CasDecision<CasValue>>;
  /** A fresh request id for a write that came without one (unique across the ring and restarts). */
  newRequestId(): string;
}

export function casRoutes(app: Hono, limits: ClientLimits, valueBytesMax: number, deps: CasDeps): void {
  app.on(['GET', 'PUT', 'DELETE'], '/kv/*', async (c, next) => {
    const request = parseCas(c, limits);
    if (request === undefined) return next();
    const change = await changeOf(request, c.req.method, () => readBody(c.req.raw, valueBytesMax, incomingOf(c)), deps);
    return render(request, await deps.run(request.key, change, request.timeoutMs));
  });
}

async function changeOf(request: CasRequest, method: string, body: () => Promise<Uint8Array>, deps: CasDeps): Promise<Change<CasValue>> {
  if (request.kind === 'read') return { kind: 'read' };
  const value = method === 'PUT' ? { data: await body(), contentType: request.contentType } : null;
  return { kind: 'set', value, condition: request.condition, requestId: request.requestId ?? deps.newRequestId() };
}

function versionHeaders(state: RegisterState<CasValue>): Record<string, string> {
  return { [CAS_VERSION_HEADER]: String(state.version) };
}

function errorResponse(error: KvError, headers: Record<string, string>): Response {
  return Response.json(error.toBody(), { status: error.status, headers });
}

/** The decision as the HTTP answer (module comment). */
export function render(request: CasRequest, decision: CasDecision<CasValue>): Response {
  const { key } = request;
  switch (decision.kind) {
    case 'applied':
      return new Response(null, { status: 204, headers: versionHeaders(decision.state) });
    case 'precondition-failed': {
      const { state } = decision;
      const error = new KvError('KV_ERR_PRECONDITION', `the condition does not hold: the key is at version ${state.version}${state.value === null ? ' and holds no value' : ''}`, { key, version: state.version, exists: state.value !== null });
      return errorResponse(error, versionHeaders(state));
    }
    case 'read': {
      const { state } = decision;
      if (state.value === null) return errorResponse(new KvError('KV_ERR_NOT_FOUND', 'no value for this key', { key, version: state.version }), versionHeaders(state));
      return new Response(state.value.data, { status: 200, headers: { 'content-type': state.value.contentType, ...versionHeaders(state) } });
    }
    case 'failed': {
      const details = { key, reason: decision.reason };
      if (decision.maybeApplied) {
        throw new KvError('KV_ERR_TIMEOUT', `the compare-and-set did not finish (${decision.reason}); it may have applied: retry with the same request id to learn the outcome`, { ...details, maybeApplied: true, timeoutMs: request.timeoutMs });
      }
      if (decision.reason === 'not-joined') throw notJoined();
      throw new KvError('KV_ERR_QUORUM_UNMET', `the compare-and-set did not finish (${decision.reason}) and did not apply`, { ...details, attempted: false });
    }
  }
}
