/** Programmatic access to the local-ring helpers behind `ringkv up` (used by tests and bench). */
export { startLocalRing, spawnNode, waitReady, waitConverged, stopNodes, stopChild, joinRing, nodeSpecs, type LocalRingOptions, type RingNodeSpec, type RunningNode } from './local-ring.js';
/** `ringkv node`'s option table and argv → config parser (tests check deploy/ recipes with them). */
export { nodeOptions, parseNodeArgs } from './commands/node.js';
export { UsageError } from './args.js';
export { commandHelp, wantsHelp } from './help.js';
