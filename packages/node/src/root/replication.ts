/**
 * The composition root's replication part: the coordinator (Dynamo §4.5: it runs the quorum
 * cores over the store and the transport), the replica service peers are served by, and the
 * four background loops (hinted handoff, ownership transfer, anti-entropy, the reaper) over
 * the same store, membership and transport. Built in this order, as node.ts always built them.
 */
import type { Logger } from 'pino';
import type { NodeConfig } from '../config.js';
import type { VersioningLimits } from '../core/versioned.js';
import type { NodeMetrics } from '../metrics.js';
import type { ClockSkew } from '../membership/clock-skew.js';
import type { MembershipView } from '../membership/membership.js';
import { RingView } from '../membership/ring-view.js';
import { Coordinator } from '../replication/coordinator.js';
import { PeerHealth } from '../replication/peer-health.js';
import { ReplicaService } from '../replication/replica-service.js';
import { CasCoordinator } from '../replication/cas-coordinator.js';
import { CasLayout } from '../replication/cas-layout.js';
import { HintedHandoff } from '../replication/hinted-handoff.js';
import { AntiEntropy, type ExchangeReport } from '../replication/anti-entropy.js';
import { RateLimiter } from '../replication/rate-limiter.js';
import { OwnershipTransfer } from '../replication/ownership-transfer.js';
import { Reaper } from '../replication/reaper.js';
import { KeyLister } from '../replication/key-lister.js';
import type { Store } from '../storage/store.js';
import type { FaultPlan } from '../transport/fault-plan.js';
import type { Transport } from '../transport/transport.js';
import type { Timers } from '../timers.js';

/** What the replication part is built over; every clock, timer and random source is given. */
export interface ReplicationDeps {
  readonly config: NodeConfig;
  readonly store: Store;
  readonly membership: MembershipView;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly nowMs: () => number;
  readonly timers: Timers;
  readonly random: () => number;
  readonly metrics: NodeMetrics;
  readonly clock: ClockSkew;
  readonly faults: FaultPlan | undefined;
  /** Told of every finished anti-entropy exchange (the dashboard's exchange log). */
  readonly onExchange: (report: ExchangeReport) => void;
}

function limitsOf(config: NodeConfig): VersioningLimits {
  return { siblingsMax: config.siblingsMax, clockEntriesMax: config.clockEntriesMax };
}

/** The coordinator, the replica service (behind the fault layer's slow store, if any) and the peer health both share. */
function buildCoordinator(deps: ReplicationDeps) {
  const { config, store, membership, metrics, nowMs } = deps;
  const limits = limitsOf(config);
  const replica = new ReplicaService(store, limits, () => coordinator, (id) => membership.isRemoved(id));
  // What peers are served: the replica service, behind the fault layer's slow store if any.
  const served = deps.faults ? deps.faults.delaying(replica) : replica;
  const peerHealth = new PeerHealth();
  // The node's one ring (membership/ring-view.ts): every part below asks it.
  const ringView = new RingView(membership, config.tokensPerNode, config.n);
  const coordinator = new Coordinator({
    selfId: config.nodeId,
    n: config.n,
    ringView,
    membership,
    transport: deps.transport,
    store,
    limits,
    nowMs,
    logger: deps.logger,
    events: metrics.events,
    failGraceMs: config.quorumFailGraceMs,
    sloppyQuorum: config.sloppyQuorum,
    health: peerHealth,
    replicaTimeoutMs: config.replicaTimeoutMs,
    timers: deps.timers,
    tombstoneGraceMs: config.tombstoneGraceMs,
    random: deps.random,
  });
  const cas = buildCas(deps, ringView, replica);
  metrics.gauge('ringkv_clock_skew_seconds', "This node's clock minus the median of its peers' (membership/clock-skew.ts).", () => deps.clock.estimate(nowMs()).skewMs / 1000);
  metrics.gauge('ringkv_peers_avoided', 'Peers this node currently routes around because they left its requests unanswered (replication/peer-health.ts).', () => coordinator.peerHealth().filter((p) => !p.usable).length);
  metrics.counter('ringkv_peer_trips_total', 'Times a peer was found silent or unreachable and routed around.', () => peerHealth.trips);
  metrics.watchRing(() => ringView.ring(), config.n, (id) => membership.isReachable(id));
  // Listing keys (docs/listing.md): coverage of the ring, routed around peers as reads are.
  const lister = new KeyLister({ selfId: config.nodeId, n: config.n, ring: () => ringView.ring(), usable: (id) => membership.isReachable(id) && peerHealth.usable(id, nowMs()), member: (id) => membership.member(id), store, transport: deps.transport, monotonicMs: deps.timers.monotonicMs, unanswered: (id) => peerHealth.unreachable(id, nowMs()) });
  return { replica, served, peerHealth, coordinator, ringView, cas, lister };
}

/** Compare-and-set (docs/cas.md): the proposer side, and request ids for writes that came without one. */
function buildCas(deps: ReplicationDeps, ringView: RingView, replica: ReplicaService) {
  const { config, membership, random } = deps;
  // Rounds fenced by the ring's digest; keys learned from the ring after it changes (docs/cas.md).
  const layout = new CasLayout({ selfId: config.nodeId, ring: () => ringView.ring(), records: deps.store.acceptorRecords, membership, n: config.n, transport: deps.transport });
  replica.cas.attachLayout(layout);
  const coordinator = new CasCoordinator({
    layout: () => layout.digest(),
    joined: () => layout.joined(),
    selfId: config.nodeId,
    preferenceList: (key) => ringView.preferenceList(key),
    member: (id) => membership.member(id),
    transport: deps.transport,
    local: replica.cas,
    records: deps.store.acceptorRecords,
    timers: deps.timers,
    random,
  });
  deps.metrics.counter('ringkv_cas_requests_total', 'Compare-and-set requests (and consistent reads) this node coordinated.', () => coordinator.counts.requests);
  deps.metrics.counter('ringkv_cas_unknown_outcomes_total', 'Compare-and-set requests that ended without knowing whether they applied (504, maybeApplied).', () => coordinator.counts.unknownOutcomes);
  deps.metrics.counter('ringkv_cas_layout_retries_total', "Compare-and-set requests tried again because a replica's ring differed from this node's.", () => coordinator.counts.layoutRetries);
  deps.metrics.counter('ringkv_cas_keys_learned_total', 'Keys this replica learned from every ring member after a change of ring, one by one (docs/cas.md).', () => replica.cas.learned);
  // The node id keeps ids of different nodes apart; 96 random bits keep a restarted node's apart.
  const word = () => Math.floor(random() * 2 ** 32).toString(36);
  return {
    run: coordinator.run.bind(coordinator),
    newRequestId: () => `${config.nodeId}:${word()}${word()}${word()}`,
  };
}

/** The background loops; not started here (startNode starts them, a simulation drives them). */
function buildLoops(deps: ReplicationDeps, ringView: RingView) {
  const { config, metrics, nowMs, timers } = deps;
  const limits = limitsOf(config);
  // What every background loop (hints, handoff, anti-entropy, reaping) works with.
  const background = { store: deps.store, membership: deps.membership, transport: deps.transport, logger: deps.logger, nowMs, timers };
  const ring = { selfId: config.nodeId, n: config.n, ring: () => ringView.ring() };
  const handoff = new HintedHandoff({
    ...background,
    batch: config.hintDeliveryBatch,
    ttlMs: config.hintTtlMs,
    events: metrics.hintEvents,
    ownersOf: (key: string) => ringView.preferenceList(key),
    limits,
  });
  // One budget for every background move of keys: transfer and anti-entropy share it.
  const repairLimiter = new RateLimiter(config.antiEntropyKeysPerSecond, nowMs, (ms) => new Promise((resolve) => timers.setTimeout(resolve, ms)));
  const transfer = new OwnershipTransfer({ ...background, ...ring, limiter: repairLimiter, batch: config.transferBatch, events: metrics.transferEvents });
  const antiEntropy = new AntiEntropy({
    ...background,
    ...ring,
    limits,
    limiter: repairLimiter,
    requestTimeoutMs: config.peerTimeoutMs,
    events: {
      exchanged: (report) => {
        metrics.antiEntropyEvents.exchanged(report);
        deps.onExchange(report);
      },
    },
    tombstoneGraceMs: config.tombstoneGraceMs,
  });
  const reaper = new Reaper({
    ...background,
    graceMs: config.tombstoneGraceMs,
    batch: config.reapBatch,
    requestTimeoutMs: config.peerTimeoutMs,
    events: metrics.reaperEvents,
  });
  return { handoff, transfer, antiEntropy, reaper };
}

/** Every replication part of one node, wired; nothing started. */
export function buildReplication(deps: ReplicationDeps) {
  const core = buildCoordinator(deps);
  return { ...core, ...buildLoops(deps, core.ringView) };
}

export type Replication = ReturnType<typeof buildReplication>;
