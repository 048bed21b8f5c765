export * from './errors.js';
export * from './wire.js';
export * from './ring.js';
export * from './zone.js';
export * from './replica-health.js';
