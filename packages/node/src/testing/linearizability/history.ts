/**
 * The history a linearizability check reads: operations on registers (one per key), each with
 * the process that issued it, when it was invoked and, if it completed, when and with what
 * result. An operation whose outcome is unknown (the client timed out, the coordinator died)
 * may or may not have taken effect, at any time after its invocation (Jepsen's `:info`
 * operations; Knossos and Porcupine give them an infinite return time).
 */
import assert from 'node:assert/strict';

/** A register's value; `null` is "absent" (never written, so `if_absent` compares with it). */
export type RegisterValue = string | null;

/**
 * What a client asked for. A CAS with `expected: null` is "set if absent"; `cas-version` sets
 * if the register's version (the number of sets applied so far, as `if_version=V`) is `expected`.
 */
export type RegisterCall =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: string }
  | { readonly kind: 'cas'; readonly expected: RegisterValue; readonly value: string }
  | { readonly kind: 'cas-version'; readonly expected: number; readonly value: string };

/** What the client was told, when it was told something; a read may report the version too. */
export type RegisterResult =
  | { readonly kind: 'read'; readonly value: RegisterValue; readonly version?: number }
  | { readonly kind: 'write' }
  | { readonly kind: 'cas'; readonly ok: boolean };

/**
 * How an operation ended: `ok` with a result; `failed` (known NOT to have taken effect: it is
 * dropped from the check); `unknown` (may have taken effect, at any time after invocation).
 */
export type Outcome =
  | { readonly status: 'ok'; readonly completedAt: number; readonly result: RegisterResult }
  | { readonly status: 'failed'; readonly completedAt: number }
  | { readonly status: 'unknown' };

/** One operation of the history. Times are any monotonic numbers (ms, or event indexes). */
export interface Operation {
  readonly process: string;
  readonly key: string;
  readonly call: RegisterCall;
  readonly invokedAt: number;
  readonly outcome: Outcome;
}

/** One event of an event-ordered history (Jepsen's form: invoke, then ok | fail | info). */
export type HistoryEvent =
  | { readonly type: 'invoke'; readonly process: string; readonly key: string; readonly call: RegisterCall }
  | { readonly type: 'ok'; readonly process: string; readonly result: RegisterResult }
  | { readonly type: 'fail' | 'info'; readonly process: string };

/**
 * Pairs an event-ordered history into operations, times being event indexes. A process has
 * at most one operation in flight (asserted: a history that breaks this is a harness bug);
 * an invocation never completed is `unknown`, like an `info` completion.
 */
export function operationsFromEvents(events: readonly HistoryEvent[]): Operation[] {
  const open = new Map<string, { key: string; call: RegisterCall; invokedAt: number }>();
  const operations: Operation[] = [];
  events.forEach((event, index) => {
    if (event.type === 'invoke') {
      assert.ok(!open.has(event.process), `process ${event.process} invoked twice without completing`);
      open.set(event.process, { key: event.key, call: event.call, invokedAt: index });
      return;
    }
    const pending = open.get(event.process);
    assert.ok(pending !== undefined, `process ${event.process} completed without an invocation`);
    open.delete(event.process);
    const outcome: Outcome = event.type === 'ok' ? { status: 'ok', completedAt: index, result: event.result }
      : event.type === 'fail' ? { status: 'failed', completedAt: index } : { status: 'unknown' };
    operations.push({ process: event.process, ...pending, outcome });
  });
  for (const [process, pending] of open) operations.push({ process, ...pending, outcome: { status: 'unknown' } });
  return operations;
}

/** A short human form of an operation, for explanations: `p3 cas(a→b)=ok [4,9]`. */
export function describeOperation(op: Operation): string {
  const show = (v: RegisterValue) => (v === null ? '∅' : v);
  const c = op.call;
  const call = c.kind === 'read' ? 'read()' : c.kind === 'write' ? `write(${c.value})`
    : c.kind === 'cas' ? `cas(${show(c.expected)}→${c.value})` : `cas(v${c.expected}→${c.value})`;
  const o = op.outcome;
  const read = (value: RegisterValue, version: number | undefined) => `=${show(value)}${version === undefined ? '' : `@v${version}`}`;
  const result = o.status !== 'ok' ? `=${o.status}` : o.result.kind === 'read' ? read(o.result.value, o.result.version) : o.result.kind === 'cas' ? `=${o.result.ok ? 'ok' : 'fail'}` : '=ok';
  const end = o.status === 'unknown' ? '∞' : String(o.completedAt);
  return `${op.process} ${op.key}:${call}${result} [${op.invokedAt},${end}]`;
}
