/**
 * The composition root's membership part when membership is SWIM gossip (the default): the
 * gossip driver, the removals it learns kept on disk (membership/removals.ts), its counters
 * for /metrics, and the leave and remove operations of the admin routes.
 */
import type { Logger } from 'pino';
import type { NodeConfig } from '../config.js';
import type { GossipStats } from '../metrics.js';
import type { ClockSkew } from '../membership/clock-skew.js';
import type { MembershipControl } from '../membership/control.js';
import { loadRemovals, recordRemoval } from '../membership/removals.js';
import { SwimMembership } from '../membership/swim-membership.js';
import { SwimDriver } from '../membership/swim/driver.js';
import { swimConfigOf } from '../config.js';
import type { FaultPlan } from '../transport/fault-plan.js';
import type { Keyring } from '../security/keyring.js';
import { leaveStep } from '../replication/leave.js';
import type { Store } from '../storage/store.js';
import type { Assembled } from './assemble.js';

/** What the gossip driver is started with beyond the config. */
export interface GossipDeps {
  readonly url: string;
  readonly gossipAdvertised: { host: string; port?: number } | undefined;
  readonly keyring: Keyring;
  readonly logger: Logger;
  readonly nowMs: () => number;
  readonly random: () => number;
  readonly clock: ClockSkew;
  readonly faults: FaultPlan | undefined;
  /** Called when gossip says an operator removed this node: it must stop for good. */
  readonly onSelfRemoved: () => void;
}

/** Starts gossip and follows its events: removals are kept on disk, a self-removal stops the node. */
export async function startGossip(config: NodeConfig, deps: GossipDeps): Promise<{ driver: SwimDriver; membership: SwimMembership }> {
  const { logger } = deps;
  const driver = await SwimDriver.start({
    selfId: config.nodeId,
    host: config.host,
    ...(deps.gossipAdvertised === undefined ? {} : { advertise: deps.gossipAdvertised }),
    port: config.gossipPort,
    httpAddress: deps.url,
    ...(config.zone === '' ? {} : { zone: config.zone }),
    keys: () => deps.keyring.gossipKeys,
    seeds: config.seeds,
    config: swimConfigOf(config),
    logger,
    nowMs: deps.nowMs,
    random: deps.random,
    onPeerClock: (peer, peerTimeMs, atMs) => deps.clock.observe(peer, peerTimeMs, atMs),
    ...(deps.faults ? { faults: deps.faults } : {}),
  });
  driver.swim.restoreRemoved(loadRemovals(config.dataDir));
  const membership = new SwimMembership(driver.swim, () => driver.joined);
  driver.onEvents((events) => {
    membership.changed();
    for (const event of events) {
      if (event.kind === 'removed') {
        try {
          recordRemoval(config.dataDir, event.id);
        } catch (error) {
          logger.warn({ err: error, id: event.id }, 'could not record a removal on disk (gossip still carries it)');
        }
      }
      if (event.kind === 'self-removed') deps.onSelfRemoved();
    }
  });
  return { driver, membership };
}

/** The gossip counters /metrics exports. */
export function swimCounters(driver: SwimDriver): GossipStats {
  const { stats } = driver.swim;
  return {
    probes: stats.probes,
    probeFailures: stats.probeFailures,
    indirectProbes: stats.indirectProbes,
    suspicions: stats.suspicions,
    refutations: stats.refutations,
    deaths: stats.deaths,
    packetsIn: driver.stats.packetsIn,
    packetsOut: driver.stats.packetsOut,
    pushPulls: driver.stats.pushPulls,
    localHealth: driver.swim.health,
    handlerErrors: driver.stats.handlerErrors,
    dropped: driver.stats.dropped,
  };
}

/** What leaving needs from the rest of the node, known only once it is assembled. */
export interface LeaveDeps {
  readonly driver: SwimDriver;
  readonly store: Store;
  readonly logger: Logger;
  /** The assembled node (read when a leave begins, never before). */
  readonly node: () => Pick<Assembled, 'handoff' | 'transfer' | 'replica'>;
  readonly close: () => Promise<void>;
  /** Called once the node has left, handed off its data and stopped. */
  readonly onLeft: () => void;
}

/**
 * Leave and remove for the admin routes. Leaving: announce it, then wait until every key this
 * node held lives on its new owners (the transfer loop hands them off), then stop.
 */
export function membershipControl(deps: LeaveDeps): MembershipControl {
  const { driver, logger } = deps;
  let leaving: Promise<void> | undefined;
  return {
    leave: async () => {
      leaving ??= (async () => {
        await driver.leave();
        logger.info({ pending: deps.node().transfer.status().pending }, 'left the ring; handing off data');
        void waitHandedOff(deps).then(async () => {
          logger.info('data handed off; stopping');
          await deps.close();
          deps.onLeft();
        });
      })();
      await leaving;
    },
    remove: (id) => driver.remove(id),
  };
}

/**
 * Done when no key is left to hand off and no hint is left: hints whose owner is reachable
 * are delivered by the hint loop, the others handed to another live node (issue 19.6).
 */
async function waitHandedOff(deps: LeaveDeps): Promise<void> {
  for (;;) {
    const node = deps.node();
    const done = await leaveStep({ store: deps.store, handoff: node.handoff, transfer: node.transfer, cas: node.replica.cas }).catch((error: unknown) => {
      deps.logger.warn({ err: error }, 'a leave step failed; retrying');
      return false;
    });
    if (done) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
