/**
 * What the composition root (node.ts, root/) may be handed instead of building it: the
 * in-memory twins and the simulation's clock, timers and randomness for tests, and what
 * startNode itself builds before it assembles (the store, TLS, gossip). Every part below is
 * optional here and nowhere else: `assemble` and `startNode` pick the defaults, once.
 */
import type { Logger } from 'pino';
import type { AccessDeps } from '../http/access.js';
import type { TlsMaterial } from '../access/tls-files.js';
import type { ConnectionCounts, GossipStats } from '../metrics.js';
import type { MembershipView } from '../membership/membership.js';
import type { MembershipControl } from '../membership/control.js';
import type { ClockSkew } from '../membership/clock-skew.js';
import type { Store } from '../storage/store.js';
import type { Transport } from '../transport/transport.js';
import type { FaultPlan } from '../transport/fault-plan.js';
import type { Timers } from '../timers.js';
import type { Keyring } from '../security/keyring.js';

export interface NodeParts {
  /** Injected for tests; a SqliteStore under `config.dataDir` otherwise. */
  readonly store?: Store;
  /** Injected for tests; an HttpTransport otherwise. */
  readonly transport?: Transport;
  /** A membership source other than the static list (startNode passes SWIM's here). */
  readonly membership?: MembershipView;
  /** Injected partitions, when the node runs with fault injection. */
  readonly faults?: FaultPlan;
  /** Gossip counters for /metrics, when membership is SWIM. */
  readonly swimStats?: () => GossipStats;
  readonly logger?: Logger;
  readonly nowMs?: () => number;
  /** Injected by the simulation (a manual clock); the process's timers otherwise. */
  readonly timers?: Timers;
  /** Graceful leave and operator removal, when membership is SWIM (startNode passes them). */
  readonly membershipControl?: MembershipControl;
  /** Uniform in [0, 1) (fresh actors, core/actor.ts); the simulation passes its seeded one. */
  readonly random?: () => number;
  /**
   * Token and peer-certificate checks of the HTTP routes; startNode builds them from the
   * config. Absent, every route is open: in-process tests drive `app.request()` without them.
   */
  readonly access?: Omit<AccessDeps, 'keyBytesMax' | 'refused'>;
  /** Open and dropped connections of the HTTP port, for /metrics. */
  readonly connections?: () => ConnectionCounts;
  /** This node's TLS identity: its connections to peers use it (startNode loads it). */
  readonly tls?: TlsMaterial;
  /**
   * The cluster keys (security/keyring.ts); main.ts passes one loaded from a secret file and
   * reloads it on SIGHUP. Absent: a keyring of `config.secret` alone.
   */
  readonly keyring?: Keyring;
  /** This boot's epoch (transport/auth.ts); a fresh random one unless a test fixes it. */
  readonly bootEpoch?: string;
  /** How far this node's clock is from its peers' (fed by gossip and hellos); a fresh one unless given. */
  readonly clock?: ClockSkew;
}
