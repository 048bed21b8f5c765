export { RingkvClient, encodeKey, type ClientOptions } from './client.js';
export { RingkvError, type ClientErrorCode } from './errors.js';
export type { Sibling, GetResult, GetOptions, PutOptions, DeleteOptions, Resolver, CallOptions } from './types.js';
