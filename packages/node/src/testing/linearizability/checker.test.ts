// The linearizability checker on hand-made histories that must fail and must pass, then on
// random histories of a real sequential register (must pass) and their one-read mutations
// (judged against an independent brute-force check).
import t from 'tap';
import { checkLinearizable, bruteForceLinearizable, checkRegister, operationsFromEvents, type Operation, type RegisterCall, type RegisterValue } from './index.js';
import { seededRandom } from '../rng.js';

const read = (p: string, at: number, end: number, value: RegisterValue, key = 'k'): Operation =>
  ({ process: p, key, call: { kind: 'read' }, invokedAt: at, outcome: { status: 'ok', completedAt: end, result: { kind: 'read', value } } });
const write = (p: string, at: number, end: number | undefined, value: string, key = 'k'): Operation =>
  ({ process: p, key, call: { kind: 'write', value }, invokedAt: at, outcome: end === undefined ? { status: 'unknown' } : { status: 'ok', completedAt: end, result: { kind: 'write' } } });
const cas = (p: string, at: number, end: number | undefined, expected: RegisterValue, value: string, ok = true, key = 'k'): Operation =>
  ({ process: p, key, call: { kind: 'cas', expected, value }, invokedAt: at, outcome: end === undefined ? { status: 'unknown' } : { status: 'ok', completedAt: end, result: { kind: 'cas', ok } } });

const casv = (p: string, at: number, end: number | undefined, expected: number, value: string, ok = true): Operation =>
  ({ process: p, key: 'k', call: { kind: 'cas-version', expected, value }, invokedAt: at, outcome: end === undefined ? { status: 'unknown' } : { status: 'ok', completedAt: end, result: { kind: 'cas', ok } } });
const readv = (p: string, at: number, end: number, value: RegisterValue, version: number): Operation =>
  ({ process: p, key: 'k', call: { kind: 'read' }, invokedAt: at, outcome: { status: 'ok', completedAt: end, result: { kind: 'read', value, version } } });

const mustFail: Array<[string, Operation[]]> = [
  ['a stale read: x read after a completed write of y', [write('a', 0, 1, 'x'), write('a', 2, 3, 'y'), read('b', 4, 5, 'x')]],
  ['a lost CAS: two CAS from the same expected value both succeed', [write('a', 0, 1, 'x'), cas('b', 2, 5, 'x', 'y'), cas('c', 3, 6, 'x', 'z')]],
  ['a lost CAS from absent: two if_absent claims both succeed', [cas('b', 0, 5, null, 'alice'), cas('c', 1, 6, null, 'bob')]],
  ['split brain: readers see the two writers\' values as latest in opposite orders', [
    write('w1', 0, 10, 'x'), write('w2', 0, 10, 'y'),
    read('r1', 1, 3, 'x'), read('r1', 4, 6, 'y'),
    read('r2', 1, 3, 'y'), read('r2', 4, 6, 'x'),
  ]],
  ['a read of a value never written', [write('a', 0, 1, 'x'), read('b', 2, 3, 'ghost')]],
  ['a read of absent after a completed write', [write('a', 0, 1, 'x'), read('b', 2, 3, null)]],
  ['a failed CAS whose condition held', [write('a', 0, 1, 'x'), cas('b', 2, 3, 'x', 'y', false)]],
  ['an unknown write read, then un-read', [write('a', 0, undefined, 'x'), read('b', 1, 2, 'x'), read('b', 3, 4, null)]],
  ['a lost update by version: two if_version=1 sets both succeed', [write('a', 0, 1, 'x'), casv('b', 2, 5, 1, 'y'), casv('c', 3, 6, 1, 'z')]],
  ['a version that skips: x read at version 2 after one write', [write('a', 0, 1, 'x'), readv('b', 2, 3, 'x', 2)]],
  ['a version from the past: x read at version 2 after three sets', [write('a', 0, 1, 'x'), cas('b', 2, 3, 'x', 'y'), write('a', 4, 5, 'x'), readv('c', 6, 7, 'x', 2)]],
];

for (const [name, history] of mustFail) {
  t.test(`must fail: ${name}`, async (t) => {
    const verdict = checkLinearizable(history);
    t.equal(verdict.kind, 'violation');
    if (verdict.kind === 'violation') t.match(verdict.report, /cannot be placed: /, verdict.report);
    t.equal(bruteForceLinearizable(history), false, 'the brute force agrees');
  });
}

const mustPass: Array<[string, Operation[]]> = [
  ['overlapping write and read see either value', [write('a', 0, 1, 'x'), write('a', 2, 6, 'y'), read('b', 3, 4, 'x'), read('c', 3, 5, 'y')]],
  ['concurrent CAS, one wins', [write('a', 0, 1, 'x'), cas('b', 2, 5, 'x', 'y'), cas('c', 3, 6, 'x', 'z', false), read('d', 7, 8, 'y')]],
  ['an unknown write that landed', [write('a', 0, undefined, 'x'), read('b', 5, 6, 'x'), read('b', 7, 8, 'x')]],
  ['an unknown write that did not land', [write('a', 0, undefined, 'x'), read('b', 5, 6, null)]],
  ['an unknown write that landed late', [write('a', 0, undefined, 'x'), read('b', 5, 6, null), read('b', 9, 10, 'x')]],
  ['an unknown CAS that landed', [write('a', 0, 1, 'x'), cas('b', 2, undefined, 'x', 'y'), read('c', 3, 4, 'y')]],
  ['an unknown CAS whose condition never held', [cas('b', 2, undefined, 'x', 'y'), read('c', 3, 4, null)]],
  ['a chain of claims', [cas('a', 0, 2, null, 'a1'), cas('b', 1, 3, null, 'b1', false), cas('b', 4, 5, 'a1', 'b2'), read('a', 6, 7, 'b2')]],
  ['a chain of if_version sets, one refused', [casv('a', 0, 1, 0, 'x'), casv('b', 2, 4, 1, 'y'), casv('c', 3, 5, 1, 'z', false), readv('a', 6, 7, 'y', 2)]],
  ['an unknown if_version set that landed, read with its version', [casv('a', 0, 1, 0, 'x'), casv('b', 2, undefined, 1, 'y'), readv('c', 3, 4, 'y', 2)]],
  ['keys are independent', [write('a', 0, 1, 'x', 'k1'), write('a', 2, 3, 'x', 'k2'), read('b', 4, 5, 'x', 'k1'), read('b', 6, 7, 'x', 'k2')]],
];

for (const [name, history] of mustPass) {
  t.test(`must pass: ${name}`, async (t) => {
    t.equal(checkLinearizable(history).kind, 'ok');
    const keys = new Set(history.map((op) => op.key));
    for (const key of keys) t.equal(bruteForceLinearizable(history.filter((op) => op.key === key)), true, `the brute force agrees (${key})`);
  });
}

t.test('the explanation names the longest prefix and the operation that cannot follow', async (t) => {
  const history = [write('a', 0, 1, 'x'), write('a', 2, 3, 'y'), read('b', 4, 5, 'x')];
  const verdict = checkLinearizable(history);
  if (verdict.kind !== 'violation') return t.fail('expected a violation');
  t.same(verdict.explanation.prefix, [0, 1]);
  t.equal(verdict.explanation.stuck, 2);
  t.same(verdict.explanation.stateAfterPrefix, { value: 'y', version: 0 }, 'versions are not tracked when nothing observes them');
  t.match(verdict.report, /cannot be placed: b k:read\(\)=x \[4,5\]/);
});

t.test('the step budget answers unknown instead of searching on', async (t) => {
  // Many concurrent writes and one impossible read: the search must explore before it fails.
  const history = [...Array.from({ length: 14 }, (_, i) => write(`w${i}`, 0, 100, `v${i}`)), read('r', 101, 102, 'never')];
  t.equal(checkRegister(history, null, 50).kind, 'unknown');
  t.equal(checkRegister(history).kind, 'violation', 'with the default budget it is decided');
});

t.test('events pair into operations; an invocation never completed is unknown', async (t) => {
  const ops = operationsFromEvents([
    { type: 'invoke', process: 'a', key: 'k', call: { kind: 'write', value: 'x' } },
    { type: 'invoke', process: 'b', key: 'k', call: { kind: 'read' } },
    { type: 'ok', process: 'b', result: { kind: 'read', value: 'x' } },
    { type: 'invoke', process: 'c', key: 'k', call: { kind: 'cas', expected: null, value: 'y' } },
    { type: 'fail', process: 'c' },
  ]);
  t.same(ops.map((op) => op.outcome.status), ['ok', 'failed', 'unknown']);
  t.equal(checkLinearizable(ops).kind, 'ok');
  t.throws(() => operationsFromEvents([{ type: 'ok', process: 'z', result: { kind: 'write' } }]));
});

/**
 * A history from a real sequential register: each op takes effect at a random instant inside
 * its interval (or, for an unknown outcome, at a random later instant or never).
 */
function randomHistory(random: () => number, opsCount: number, processes: number): Operation[] {
  const values = ['a', 'b', 'c'];
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const pending: Array<{ op: Omit<Operation, 'outcome'>; end: number; at: number; unknown: boolean }> = [];
  const freeAt = new Array<number>(processes).fill(0);
  for (let i = 0; i < opsCount; i++) {
    const p = Math.floor(random() * processes);
    const start = freeAt[p]! + Math.floor(random() * 5);
    const end = start + 1 + Math.floor(random() * 10);
    const kind = pick(['read', 'write', 'cas', 'cas-version'] as const);
    const unknown = kind !== 'read' && random() < 0.15;
    const at = unknown && random() < 0.3 ? Number.POSITIVE_INFINITY : start + random() * (unknown ? 30 : end - start);
    freeAt[p] = unknown ? Number.POSITIVE_INFINITY : end + 1;
    if (!Number.isFinite(freeAt[p]!)) freeAt[p] = 1e9; // a process with an unknown op stops
    const call: RegisterCall = kind === 'read' ? { kind } : kind === 'write' ? { kind, value: pick(values) }
      : kind === 'cas' ? { kind, expected: pick([null, ...values]), value: pick(values) } : { kind, expected: Math.floor(random() * 4), value: pick(values) };
    pending.push({ op: { process: `p${p}`, key: 'k', call, invokedAt: start }, end, at, unknown });
  }
  let state: RegisterValue = null;
  let version = 0;
  const withVersions = random() < 0.5;
  const results = new Map<number, Operation>();
  const order = pending.map((_, i) => i).filter((i) => pending[i]!.op.invokedAt < 1e9).sort((a, b) => pending[a]!.at - pending[b]!.at);
  for (const i of order) {
    const { op, end, at, unknown } = pending[i]!;
    const call = op.call;
    let result: Operation['outcome'] & { status: 'ok' } extends infer O ? O : never;
    if (call.kind === 'read') result = { status: 'ok', completedAt: end, result: withVersions ? { kind: 'read', value: state, version } : { kind: 'read', value: state } };
    else if (call.kind === 'write') {
      if (Number.isFinite(at)) [state, version] = [call.value, version + 1];
      result = { status: 'ok', completedAt: end, result: { kind: 'write' } };
    } else {
      const ok = call.kind === 'cas' ? state === call.expected : version === call.expected;
      if (ok && Number.isFinite(at)) [state, version] = [call.value, version + 1];
      result = { status: 'ok', completedAt: end, result: { kind: 'cas', ok } };
    }
    results.set(i, { ...op, outcome: unknown ? { status: 'unknown' } : result });
  }
  return [...results.entries()].sort((a, b) => a[0] - b[0]).map(([, op]) => op);
}

t.test('random histories of a real register always pass; one mutated read is judged like the brute force', async (t) => {
  let mutationsCaught = 0;
  let mutationsLegit = 0;
  let disagreements = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const random = seededRandom(seed);
    const history = randomHistory(random, 3 + Math.floor(random() * 6), 3);
    const verdict = checkLinearizable(history);
    if (verdict.kind !== 'ok') t.fail(`seed ${seed}: a real register's history judged ${verdict.kind}`);
    const readsAt = history.flatMap((op, i) => (op.call.kind === 'read' && op.outcome.status === 'ok' ? [i] : []));
    if (readsAt.length === 0) continue;
    const target = readsAt[Math.floor(random() * readsAt.length)]!;
    const original = history[target]!;
    const seen = original.outcome.status === 'ok' && original.outcome.result.kind === 'read' ? original.outcome.result.value : null;
    const other = ([null, 'a', 'b', 'c', 'z'] as RegisterValue[]).filter((v) => v !== seen)[Math.floor(random() * 4)]!;
    const mutated = history.map((op, i) => (i === target ? read(op.process, op.invokedAt, (op.outcome as { completedAt: number }).completedAt, other) : op));
    const caught = checkLinearizable(mutated).kind === 'violation';
    const legit = bruteForceLinearizable(mutated);
    if (caught === legit) disagreements++;
    if (caught) mutationsCaught++;
    else mutationsLegit++;
  }
  t.equal(disagreements, 0, 'the search and the brute force agree on every mutated history');
  t.ok(mutationsCaught > 100, `most mutations are caught (${mutationsCaught} caught, ${mutationsLegit} legitimately linearizable)`);
});

t.test('a larger random history (200 ops, 6 processes) passes within the default budget', async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const history = randomHistory(seededRandom(1000 + seed), 200, 6);
    t.equal(checkLinearizable(history).kind, 'ok', `seed ${1000 + seed}`);
  }
});
