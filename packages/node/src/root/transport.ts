/**
 * The composition root's transport part: what this node dials its peers with, the stream
 * transport or the signed-HTTP fallback (docs/transport.md). Peers' streams are accepted by
 * the HTTP edge (root/app.ts).
 */
import type { Logger } from 'pino';
import type { NodeConfig } from '../config.js';
import { peerConnectOptions, type TlsMaterial } from '../access/tls-files.js';
import type { ClockSkew } from '../membership/clock-skew.js';
import type { Keyring } from '../security/keyring.js';
import { HttpTransport } from '../transport/http-transport.js';
import { StreamTransport } from '../transport/stream-transport.js';
import type { Transport } from '../transport/transport.js';
import type { FaultPlan } from '../transport/fault-plan.js';

/** What the dialing side needs beyond the config. */
export interface DialDeps {
  readonly nowMs: () => number;
  /** Uniform in [0, 1): the stream transport's reconnect jitter. */
  readonly random: () => number;
  readonly faults: FaultPlan | undefined;
  readonly keyring: Keyring;
  readonly tls: TlsMaterial | undefined;
  readonly logger: Logger;
  readonly clock: ClockSkew;
}

export function openTransport(config: NodeConfig, deps: DialDeps): Transport {
  const { nowMs, faults, keyring, tls, logger, clock } = deps;
  const common = {
    ...(faults ? { faults } : {}),
    ...(tls ? { tls: peerConnectOptions(tls) } : {}),
    selfId: config.nodeId,
    nowMs,
    peerTimeoutMs: config.peerTimeoutMs,
    batchOpsMax: config.batchOpsMax,
    inflightMax: config.peerInflightMax,
    queueOpsMax: config.peerQueueOpsMax,
    batchBytesMax: config.batchBytesMax,
    queueBytesMax: config.peerQueueBytesMax,
  };
  if (config.peerTransport === 'http') {
    return new HttpTransport({
      ...common,
      keys: () => keyring.internalKeys,
      connectionsPerPeer: config.connectionsPerPeer,
      responseBytesMax: config.internalBodyBytesMax,
      connectTimeoutMs: config.peerConnectTimeoutMs,
      onPeerClock: (peer, peerTimeMs, atMs) => clock.observe(peer, peerTimeMs, atMs),
    });
  }
  return new StreamTransport({
    ...common,
    random: deps.random,
    keys: () => keyring.streamKeys,
    frameBytesMax: config.internalBodyBytesMax,
    inflightBytesMax: config.peerInflightBytesMax,
    onConnectionClosed: (peer, reason, error) => {
      if (reason === 'closed' || reason === 'closing') logger.debug({ peer, reason }, 'stream to a peer closed');
      else logger.warn({ peer, reason, err: error.message }, 'stream to a peer closed');
    },
  });
}
