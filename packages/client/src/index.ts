export { RingkvClient, encodeKey, type ClientOptions } from './client.js';
export { RingkvError, OutcomeUnknownError, UnreachableError, RingkvAbortError, type ClientErrorCode } from './errors.js';
export { jsonCodec, type Codec, type DecodedSibling } from './codec.js';
export { mergeGCounters, gCounterTotal, incrementGCounter, type GCounter } from './counter.js';
export type { Updater, UpdateOptions, UpdateResult } from './update.js';
export type { GetManyOptions, GetManyEntry } from './get-many.js';
export type { Sibling, GetResult, GetOptions, PutOptions, DeleteOptions, WriteOptions, GetJsonOptions, GetJsonResult, Resolver, CallOptions } from './types.js';
export type { DataTypeValue, DataTypeReadOptions, DataTypeWriteOptions, DataTypeRemoveOptions, MapOperation } from './datatypes.js';
export type { WatchOptions, WatchEvent } from './watch.js';
