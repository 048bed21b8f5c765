/**
 * Test-only exports: the pure cores and helpers that test tiers (contract suites, simulation)
 * drive directly. Not part of the supported API.
 */
export * from '../core/versioned.js';
export * from '../core/clock.js';
export * from '../core/context-codec.js';
export * from '../core/object-codec.js';
export { GroupCommitQueue } from '../storage/store.js';
export { memoryCluster, type ClusterNode } from './memory-cluster.js';
export { SwimSim } from './swim-sim.js';
export { encodePacket, decodePacket } from '../membership/swim/packet.js';
export { seededRandom } from './rng.js';
export { Coordinator } from '../replication/coordinator.js';
export { PeerHealth } from '../replication/peer-health.js';
export { realTimers, type Timers } from '../timers.js';
export { ReplicaService } from '../replication/replica-service.js';
export { StaticMembership } from '../membership/static-membership.js';
export { RingView } from '../membership/ring-view.js';
export { MemoryNetwork, MemoryTransport } from '../transport/memory-transport.js';
export * from '../core/quorum.js';
export * from '../core/get-core.js';
export * from '../core/put-core.js';
export * from '../transport/messages.js';
export * from '../transport/auth.js';
export { disseminate, type DisseminationResult } from './dissemination-sim.js';
export { ClusterSim, runClusterSim, type ClusterSimOptions, type ClusterSimResult, type SimFinalKey } from './cluster-sim.js';
export type { SimHistoryEvent } from './sim-workload.js';
export * from '../transport/frame.js';
export * from '../transport/stream-auth.js';
export { StreamAcceptor, type AcceptorStats } from '../transport/stream-acceptor.js';
export { StreamTransport } from '../transport/stream-transport.js';
export { HttpTransport } from '../transport/http-transport.js';
export type { PeerHandler } from '../transport/transport.js';
export type { SimExtraWorkload, SimWorkloadEnv, SimWorkloadFactory } from './sim-workload-hook.js';
export { DtWorkload, DT_KEYS, DT_FIELDS, type DtHistoryEvent, type DtFinalKey, type DtOutcome } from './sim-dt-workload.js';
export { checkDt, type DtVerdict } from './sim-dt-check.js';
export { dtPlantedBugs } from '../replication/dt-actors.js';
export { ListWorkload, LIST_PREFIX } from './sim-list-workload.js';
export { layoutDigestOf } from '../replication/cas-layout.js';
export { casPlantedBugs } from '../replication/cas-acceptor-service.js';
