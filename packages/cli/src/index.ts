/** Programmatic access to the local-ring helpers behind `ringkv up` (used by tests and bench). */
export { startLocalRing, spawnNode, waitReady, waitConverged, stopNodes, stopChild, joinRing, nodeSpecs, type LocalRingOptions, type RingNodeSpec, type RunningNode } from './local-ring.js';
