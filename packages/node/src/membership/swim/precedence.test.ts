import t from 'tap';
import { overrides, REMOVED_INCARNATION as R } from './precedence.js';
import { suspicionMinMs, suspicionTimeoutMs, Suspicion } from './suspicion.js';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.js';
import type { SwimMember, SwimStatus, Update } from './types.js';

const member = (status: SwimStatus, incarnation: number): SwimMember => ({ id: 'm', gossipAddress: 'g', httpAddress: 'h', status, incarnation, changedMs: 0 });
const update = (kind: Update['kind'], incarnation: number): Update =>
  kind === 'alive' ? { kind, id: 'm', incarnation, gossipAddress: 'g', httpAddress: 'h' } : { kind, id: 'm', incarnation, from: 'x' };

t.test('SWIM precedence rules', async (t) => {
  // [current status, current incarnation, update kind, update incarnation, applies?]
  const table: Array<[SwimStatus | undefined, number, Update['kind'], number, boolean]> = [
    [undefined, 0, 'alive', 1, true],
    [undefined, 0, 'suspect', 1, false],
    [undefined, 0, 'dead', 1, false],
    ['alive', 5, 'alive', 5, false],
    ['alive', 5, 'alive', 6, true],
    ['alive', 5, 'suspect', 4, false],
    ['alive', 5, 'suspect', 5, true],
    ['alive', 5, 'suspect', 6, true],
    ['suspect', 5, 'suspect', 5, false],
    ['suspect', 5, 'suspect', 6, true],
    ['suspect', 5, 'alive', 5, false],
    ['suspect', 5, 'alive', 6, true],
    ['alive', 5, 'dead', 4, false],
    ['alive', 5, 'dead', 5, true],
    ['suspect', 5, 'dead', 5, true],
    ['dead', 5, 'dead', 6, false],
    ['dead', 5, 'suspect', 9, false],
    ['dead', 5, 'alive', 5, false],
    ['dead', 5, 'alive', 6, true],
    ['dead', 5, 'left', 5, true],
    ['alive', 5, 'left', 5, true],
    ['left', 5, 'dead', 9, false],
    ['left', 5, 'alive', 6, true],
    // A removal (left at REMOVED_INCARNATION) beats every record and is never outbid.
    ['alive', 5, 'left', R, true],
    ['dead', 5, 'left', R, true],
    ['left', 5, 'left', R, true],
    ['left', R, 'left', R, false],
    ['left', R, 'alive', R, false],
    ['left', R, 'suspect', R, false],
    ['left', R, 'dead', R, false],
  ];
  for (const [status, inc, kind, uinc, applies] of table) {
    t.equal(overrides(status === undefined ? undefined : member(status, inc), update(kind, uinc)), applies, `${status ?? 'unknown'}(${inc}) <- ${kind}(${uinc})`);
  }
});

t.test('suspicion timeout math (Lifeguard)', async (t) => {
  t.equal(suspicionMinMs(1, 2, 1000), 2000, 'small rings use log10 floor of 1');
  t.equal(suspicionMinMs(100, 2, 1000), 4000);
  t.equal(suspicionMinMs(1000, 2, 1000), 6000);
  // [min, max, confirmations, expected, timeout]
  const table: Array<[number, number, number, number, number]> = [
    [1000, 4000, 0, 3, 4000],
    [1000, 4000, 1, 3, 2500],
    [1000, 4000, 3, 3, 1000],
    [1000, 4000, 9, 3, 1000],
    [1000, 4000, 5, 0, 1000],
  ];
  for (const [min, max, c, k, want] of table) t.equal(suspicionTimeoutMs(min, max, c, k), want, `c=${c} k=${k}`);
  const suspicion = new Suspicion(7, 100, 1000, 4000, 3, 'a');
  t.equal(suspicion.deadlineMs(), 4100);
  t.equal(suspicion.confirm('a'), false, 'the first suspector does not confirm itself');
  t.equal(suspicion.confirm('b'), true);
  t.equal(suspicion.confirm('b'), false, 'a confirmer counts once');
  t.equal(suspicion.deadlineMs(), 2600);
});

t.test('broadcast queue: one entry per member, least-sent first, retransmit limit, size budget', async (t) => {
  const queue = new BroadcastQueue();
  queue.push(update('alive', 1));
  queue.push(update('suspect', 1)); // replaces the alive about the same member
  t.equal(queue.size, 1);
  queue.push({ kind: 'alive', id: 'n', incarnation: 1, gossipAddress: 'g', httpAddress: 'h' });
  t.same(queue.take(10, 10_000, 2).map((u) => u.id), ['m', 'n']);
  queue.push({ kind: 'alive', id: 'o', incarnation: 1, gossipAddress: 'g', httpAddress: 'h' });
  t.same(queue.take(1, 10_000, 2).map((u) => u.id), ['o'], 'never-sent entries go first');
  t.same(queue.take(10, 10_000, 2).map((u) => u.id).sort(), ['m', 'n', 'o']);
  t.equal(queue.size, 0, 'entries leave after the retransmit limit');
  queue.push({ kind: 'alive', id: 'big', incarnation: 1, gossipAddress: 'x'.repeat(500), httpAddress: 'h' });
  t.same(queue.take(10, 100, 3), [], 'an entry larger than the budget waits');
  t.equal(retransmitLimit(4, 9), 4);
  t.equal(retransmitLimit(4, 10), 8);
  t.equal(retransmitLimit(4, 1000), 16);
});

t.test('an operator remove is permanent: it beats dead, and not even a restart beats it (issue 19.5)', async (t) => {
  const { Swim } = await import('./swim.js');
  const { defaultSwimConfig } = await import('./types.js');
  const swim = new Swim({ id: 'a', gossipAddress: 'a:1', httpAddress: 'http://a' }, defaultSwimConfig, () => 0.5, 1_000);
  swim.seed([{ kind: 'alive', id: 'b', incarnation: 5, gossipAddress: 'b:1', httpAddress: 'http://b' }], 1_000);
  swim.receive('c:1', { type: 'gossip', from: 'c', updates: [{ kind: 'dead', id: 'b', incarnation: 5, from: 'c' }] }, 1_001);
  t.equal(swim.member('b')?.status, 'dead');
  const out = swim.remove('b', 1_002);
  t.equal(swim.member('b')?.status, 'left', 'removed');
  t.match(out.events, [{ kind: 'removed', id: 'b' }, { kind: 'update', member: { id: 'b', status: 'left' }, previous: 'dead' }]);
  swim.receive('c:1', { type: 'gossip', from: 'c', updates: [{ kind: 'dead', id: 'b', incarnation: 5, from: 'c' }] }, 1_003);
  t.equal(swim.member('b')?.status, 'left', 'a late dead notice does not undo the removal');
  swim.receive('b:1', { type: 'gossip', from: 'b', updates: [{ kind: 'alive', id: 'b', incarnation: 9_000, gossipAddress: 'b:1', httpAddress: 'http://b' }] }, 1_004);
  t.equal(swim.member('b')?.status, 'left', 'a restarted b (higher incarnation) stays removed');
  t.ok(swim.isRemoved('b'));
  const self = swim.receive('c:1', { type: 'gossip', from: 'c', updates: [{ kind: 'left', id: 'a', incarnation: R, from: 'c' }] }, 1_004);
  t.match(self.events, [{ kind: 'self-removed' }], 'a member told it was removed stops instead of refuting');
  swim.remove('a', 1_005);
  t.equal(swim.member('a')?.status, 'alive', 'a member cannot remove itself (that is leave)');
});
