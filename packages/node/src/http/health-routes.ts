/**
 * Health probes for supervisors and orchestrators (SPEC "HTTP API"; Kubernetes liveness and
 * readiness): `GET /livez` answers 200 while the process serves requests at all; `GET /readyz`
 * answers 200 when the node should receive traffic, else 503 `KV_ERR_NOT_READY` with every
 * reason. Ready means: not stopping or draining, joined to its ring (a seed answered), not leaving the ring, a member of the ring, and a quorum
 * of the ring's members (more than half) reachable from here, so that a node cut off from most
 * of its ring is taken out of a load balancer instead of answering 503s to every quorum
 * request. Both are open (http/access.ts) and cheap: no store or network access.
 */
import type { Hono } from 'hono';
import { KvError } from '../errors.js';
import type { MembershipView } from '../membership/membership.js';
import { SKEW_READY_MAX_MS, type SkewEstimate } from '../membership/clock-skew.js';

export interface HealthDeps {
  readonly membership: MembershipView;
  readonly isStopping: () => boolean;
  readonly isDraining?: () => boolean;
  readonly clock?: () => SkewEstimate;
  /**
   * False for a peer this node currently routes around because it left requests unanswered
   * (replication/peer-health.ts): an isolated node learns that from its own requests before
   * gossip's suspicion of every other member has run out (Lifeguard slows a node that sees
   * everyone fail).
   */
  readonly answers?: (id: string) => boolean;
}

/** Why the node is not ready; empty when it is. Pure over the membership view. */
export function notReadyReasons(deps: HealthDeps): string[] {
  const { membership } = deps;
  const reasons: string[] = [];
  if (deps.isStopping()) reasons.push('the node is stopping');
  else if (deps.isDraining?.() === true) reasons.push('the node is draining before a stop');
  if (membership.joined?.() === false) reasons.push('the node has not joined its ring yet (no member list from a seed)');
  const self = membership.member(membership.selfId);
  if (self?.status === 'left') reasons.push('the node is leaving the ring');
  const ring = membership.ringMembers();
  if (!ring.includes(membership.selfId)) reasons.push('the node is not a member of the ring');
  const reachable = ring.filter((id) => id === membership.selfId || (membership.isReachable(id) && deps.answers?.(id) !== false)).length;
  const clock = deps.clock?.();
  if (clock !== undefined && Math.abs(clock.skewMs) > SKEW_READY_MAX_MS) reasons.push(`${clock.warning ?? 'clock skew'} (more than ${SKEW_READY_MAX_MS / 1000} s)`);
  if (reachable <= ring.length / 2) reasons.push(`only ${reachable} of ${ring.length} ring members are reachable (a quorum is ${Math.floor(ring.length / 2) + 1})`);
  return reasons;
}

export function healthRoutes(app: Hono, deps: HealthDeps): void {
  app.get('/livez', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const reasons = notReadyReasons(deps);
    if (reasons.length > 0) throw new KvError('KV_ERR_NOT_READY', `not ready: ${reasons.join('; ')}`, { reasons: reasons.join('; ') });
    const clock = deps.clock?.();
    return c.json({ status: 'ready', members: deps.membership.ringMembers().length, ...(clock ? { clock } : {}) });
  });
}
