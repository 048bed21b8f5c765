/**
 * Convergent data types (docs/datatypes.md): dotted causal CRDTs after Almeida, Shoker and
 * Baquero, "Delta state replicated data types" (2018), and riak_dt's ORSWOT and map. Pure code,
 * shared by the server (which joins and applies) and the client (which parses and validates).
 */
export * from './causal-context.js';
export * from './dot-store.js';
export * from './errors.js';
export * from './limits.js';
export * from './codec.js';
export * from './operation.js';
export * from './apply.js';
export * from './value.js';
