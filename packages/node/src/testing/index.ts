/**
 * Test-only exports: the pure cores and helpers that test tiers (contract suites, simulation)
 * drive directly. Not part of the supported API.
 */
export * from '../core/versioned.js';
export * from '../core/clock.js';
export * from '../core/context-codec.js';
export * from '../core/object-codec.js';
export { GroupCommitQueue } from '../storage/store.js';
export { LocalKv } from '../replication/local-kv.js';
