/** Programmatic access to the local-ring helpers behind `ringkv up` (used by tests and bench). */
export { spawnNode, waitReady, waitConverged, stopNodes, joinRing, nodeSpecs, type RingNodeSpec, type RunningNode } from './local-ring.js';
