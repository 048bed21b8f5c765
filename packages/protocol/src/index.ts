export * from './errors.js';
export * from './wire.js';
export * from './ring.js';
export * from './zone.js';
export * from './node-id.js';
export * from './ttl.js';
export * from './replica-health.js';
export * from './datatypes/index.js';
