/**
 * Compare-and-set and linearizable reads (docs/cas.md): `cas(key, value, { ifVersion |
 * ifAbsent })` and `getConsistent(key)`, one Paxos round each on the server.
 *
 * At most once: every cas() carries a request id (the caller's, or a fresh random one). When
 * its outcome is unknown (no answer after it was sent, or a 504 that says it may have applied),
 * the same request, with the SAME id, is sent again after a jittered backoff, a bounded number
 * of times: the server recognises the id among the key's recent changes and answers "applied"
 * without applying it twice, or applies it if it never landed. A fresh id would be a new write,
 * and a claim retried that way would come back "taken" by itself.
 */
import { randomUUID } from 'node:crypto';
import { CAS_RECENT_REQUEST_IDS, CAS_VERSION_HEADER, casRetryConclusive, REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from '@ringkv/protocol';
import { OutcomeUnknownError, RingkvError } from './errors.js';
import { backoffMs, sleep } from './backoff.js';

/** Retries of a cas() whose outcome was unknown, by default. */
export const CAS_RETRIES_DEFAULT = 3;

export interface CasOptions {
  /** Set only if the key's version is this one (a version getConsistent or a cas returned; 0: never set). */
  readonly ifVersion?: number;
  /** Set only if the key holds no value. */
  readonly ifAbsent?: boolean;
  /** The write's id (A-Z a-z 0-9 . _ : -, at most 128): give one to recognise it across your own retries. */
  readonly requestId?: string;
  readonly contentType?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Sends with the same request id after an unknown outcome (default CAS_RETRIES_DEFAULT, at most 10). */
  readonly retries?: number;
}

/** The outcome of a cas(): applied at `version`, or its condition failed at the key's current `version`. */
export type CasResult = { readonly applied: true; readonly version: number } | { readonly applied: false; readonly version: number; readonly exists: boolean };

/** A linearizable read: the value, if any, and the key's version. */
export type ConsistentRead =
  | { readonly found: true; readonly value: Uint8Array; readonly contentType: string; readonly version: number }
  | { readonly found: false; readonly version: number };

/** What cas.ts needs of the client: one request with failover (RingkvClient.send). */
export interface CasTransport {
  send(request: { key: string; method: 'GET' | 'PUT'; path: string; timeoutMs: number; signal?: AbortSignal | undefined; headers?: Record<string, string>; body?: Uint8Array }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>;
  readonly timeoutMs: number;
  error(status: number, body: Buffer, path: string, write: boolean): RingkvError;
}

/** One answer of CasTransport.send. */
type CasAnswer = Awaited<ReturnType<CasTransport['send']>>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function versionOf(headers: Record<string, string | string[] | undefined>): number {
  const raw = first(headers[CAS_VERSION_HEADER]);
  const version = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(version) || version < 0) throw new RingkvError('KV_ERR_BAD_RESPONSE', `a compare-and-set answer without a valid ${CAS_VERSION_HEADER}`, 0);
  return version;
}

/** True for an error after which the write may have applied and the same request id may be sent again. */
function unknownOutcome(error: unknown): boolean {
  return error instanceof RingkvError && error.mayHaveApplied && (error.code === 'KV_ERR_OUTCOME_UNKNOWN' || error.code === 'KV_ERR_TIMEOUT');
}

/** One cas(); `random` jitters the backoff between sends (the client passes Math.random, tests their own). */
export async function runCas(transport: CasTransport, key: string, path: string, data: Uint8Array, contentType: string, options: CasOptions, random: () => number): Promise<CasResult> {
  if ((options.ifVersion === undefined) === (options.ifAbsent !== true)) throw new TypeError('cas() takes exactly one of ifVersion and ifAbsent');
  if (options.ifVersion !== undefined && (!Number.isSafeInteger(options.ifVersion) || options.ifVersion < 0)) throw new TypeError('ifVersion must be a whole number ≥ 0');
  const requestId = options.requestId ?? randomUUID();
  if (!REQUEST_ID_PATTERN.test(requestId)) throw new TypeError('requestId must be 1 to 128 characters of A-Z a-z 0-9 . _ : -');
  const timeoutMs = options.timeoutMs ?? transport.timeoutMs;
  const condition = options.ifVersion !== undefined ? `if_version=${options.ifVersion}` : 'if_absent=1';
  const fullPath = `${path}?${condition}&timeout_ms=${timeoutMs}`;
  const headers = { 'content-type': contentType, [REQUEST_ID_HEADER]: requestId };
  const retries = Math.min(options.retries ?? CAS_RETRIES_DEFAULT, 10);
  let earlierUnknown = false;
  for (let attempt = 0; ; attempt++) {
    let answer: CasAnswer;
    try {
      answer = await transport.send({ key, method: 'PUT', path: fullPath, timeoutMs, signal: options.signal, headers, body: data });
      if (answer.status !== 204 && answer.status !== 412) throw transport.error(answer.status, answer.body, fullPath, true);
    } catch (error) {
      const unknown = unknownOutcome(error);
      // Once a send's outcome was unknown, a later send that fails without an answer about the
      // request id (a node down: unreachable; a round that gave up: 503 attempted=false) says
      // nothing about the earlier one, whose accept may still be chosen: the outcome stays
      // unknown and the id is sent again while retries remain.
      if (!unknown && (!earlierUnknown || !(error instanceof RingkvError))) throw error;
      earlierUnknown = true;
      if (attempt >= retries) throw unknown ? error : new OutcomeUnknownError(`cas ${key}: an earlier send's outcome is unknown and the last one did not tell (${(error as RingkvError).message})`, { requestId }, { cause: error });
      await sleep(backoffMs(attempt, random), options.signal, `cas ${key}`);
      continue;
    }
    const version = versionOf(answer.headers);
    if (answer.status === 204) return { applied: true, version };
    // After an unknown send, a 412 proves "not applied" only while the id would still be among
    // the key's recent ones had it applied; past that the key moved on too far to tell (found
    // by the 10-minute Jepsen CAS run: a retry 550 ms later on a hot key, told 412 for a
    // change its first send had made).
    if (earlierUnknown && !casRetryConclusive(version, options.ifVersion)) {
      throw new OutcomeUnknownError(`cas ${key}: an earlier send's outcome is unknown, and the key has moved on to version ${version}, past the ${CAS_RECENT_REQUEST_IDS} request ids it remembers`, { requestId, version });
    }
    return { applied: false, version, exists: /"exists":true/.test(answer.body.toString('utf8')) };
  }
}

export async function runGetConsistent(transport: CasTransport, key: string, path: string, options: { timeoutMs?: number; signal?: AbortSignal }): Promise<ConsistentRead> {
  const timeoutMs = options.timeoutMs ?? transport.timeoutMs;
  const fullPath = `${path}?consistent=1&timeout_ms=${timeoutMs}`;
  const answer = await transport.send({ key, method: 'GET', path: fullPath, timeoutMs, signal: options.signal });
  if (answer.status === 200) return { found: true, value: new Uint8Array(answer.body), contentType: first(answer.headers['content-type']) ?? 'application/octet-stream', version: versionOf(answer.headers) };
  if (answer.status === 404) return { found: false, version: versionOf(answer.headers) };
  throw transport.error(answer.status, answer.body, fullPath, false);
}
