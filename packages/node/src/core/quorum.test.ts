import t from 'tap';
import { QuorumTally } from './quorum.js';
import { GetCore } from './get-core.js';
import { PutCore } from './put-core.js';
import { update, contextOf, type VersionedObject } from './versioned.js';

const limits = { siblingsMax: 64, clockEntriesMax: 64 };
const write = (obj: VersionedObject | undefined, value: string, id = 'a', useContext = true) =>
  update(obj, { coordinatorId: id, context: obj && useContext ? contextOf(obj) : [], deleted: false, value: new TextEncoder().encode(value), contentType: 'text/plain', nowMs: 0 }, limits);

t.test('outcome table: met at `needed` successes, failed at replicas - needed + 1 failures', async (t) => {
  // [replicas, needed, events ("s" success, "f" failure), expected outcome after each event]
  const table: Array<[number, number, string, string[]]> = [
    [3, 2, 'ss', ['pending', 'met']],
    [3, 2, 'fs', ['pending', 'pending']],
    [3, 2, 'ff', ['pending', 'failed']],
    [3, 3, 'f', ['failed']],
    [3, 1, 'fff', ['pending', 'pending', 'failed']],
    [3, 1, 'ffs', ['pending', 'pending', 'met']],
    [5, 3, 'ffsf', ['pending', 'pending', 'pending', 'failed']],
    [1, 1, 's', ['met']],
    [2, 3, '', []], // more needed than replicas: failed before anything happens
  ];
  for (const [count, needed, events, expected] of table) {
    const replicas = Array.from({ length: count }, (_, i) => `n${i}`);
    const tally = new QuorumTally(replicas, needed);
    [...events].forEach((event, i) => {
      if (event === 's') tally.succeed(replicas[i]!);
      else tally.fail(replicas[i]!);
      t.equal(tally.outcome(), expected[i], `${count} replicas, need ${needed}, after ${events.slice(0, i + 1)}`);
    });
    if (events === '') t.equal(tally.outcome(), 'failed', 'needed > replicas is failed at once');
  }
});

t.test('a replica counts once and strangers not at all', async (t) => {
  const tally = new QuorumTally(['a', 'b', 'c'], 2);
  tally.succeed('a');
  tally.succeed('a');
  tally.fail('a');
  tally.succeed('zz');
  t.equal(tally.successes, 1);
  t.equal(tally.failures, 0);
  t.equal(tally.outcome(), 'pending');
});

t.test('get core merges replies, meets at r, and plans repairs for stale replicas', async (t) => {
  const v1 = write(undefined, 'v1');
  const v2 = write(v1, 'v2');
  const core = new GetCore(['a', 'b', 'c'], 2, limits);
  core.reply('a', v2);
  t.equal(core.outcome(), 'pending');
  core.reply('b', v1);
  t.equal(core.outcome(), 'met');
  t.same(core.merged()!.siblings.map((s) => new TextDecoder().decode(s.value)), ['v2'], 'v2 supersedes v1');
  core.reply('c', undefined);
  t.ok(core.complete);
  const plan = core.plan();
  t.equal(plan.kind, 'read-repair');
  if (plan.kind === 'read-repair') t.same([...plan.targets].sort(), ['b', 'c'], 'the stale and the empty replica');
});

t.test('get core: concurrent replica versions merge into siblings; agreeing replicas need no repair', async (t) => {
  const x = write(undefined, 'x', 'a');
  const y = write(undefined, 'y', 'b');
  const core = new GetCore(['a', 'b'], 2, limits);
  core.reply('a', x);
  core.reply('b', y);
  t.equal(core.merged()!.siblings.length, 2);
  const plan = core.plan();
  t.equal(plan.kind, 'read-repair');
  const agree = new GetCore(['a', 'b'], 1, limits);
  agree.reply('a', x);
  agree.reply('b', x);
  t.same(agree.plan(), { kind: 'none' });
  const nothing = new GetCore(['a', 'b'], 2, limits);
  nothing.reply('a', undefined);
  nothing.reply('b', undefined);
  t.equal(nothing.outcome(), 'met');
  t.equal(nothing.merged(), undefined);
  t.same(nothing.plan(), { kind: 'none' });
});

t.test('get core fails fast and reports counts', async (t) => {
  const core = new GetCore(['a', 'b', 'c'], 2, limits);
  core.reply('a', undefined);
  core.fail('b', 'KV_ERR_TIMEOUT');
  t.equal(core.outcome(), 'pending');
  core.fail('c');
  t.equal(core.outcome(), 'failed');
  t.same(core.counts(), { needed: 2, answered: 1, failures: 'b=KV_ERR_TIMEOUT,c=KV_ERR_PEER_UNREACHABLE' });
});

const primaries = (...ids: string[]) => ids.map((id) => ({ node: id, owner: id }));

t.test('put core meets at w and fails fast', async (t) => {
  const core = new PutCore(primaries('a', 'b', 'c'), 3);
  core.ack('a');
  core.ack('b');
  t.equal(core.outcome(), 'pending');
  core.fail('c');
  t.equal(core.outcome(), 'failed');
  t.same(core.counts(), { needed: 3, answered: 2, failures: 'c=KV_ERR_PEER_UNREACHABLE' });
  const ok = new PutCore(primaries('a', 'b', 'c'), 2);
  ok.ack('a');
  ok.fail('b');
  ok.ack('c');
  t.equal(ok.outcome(), 'met');
});

t.test('put core with a fallback: its ack counts toward w but never toward pw', async (t) => {
  const targets = [{ node: 'a', owner: 'a' }, { node: 'b', owner: 'b' }, { node: 'd', owner: 'c' }];
  const sloppy = new PutCore(targets, 2);
  sloppy.ack('a');
  sloppy.ack('d');
  t.equal(sloppy.outcome(), 'met', 'W=2 met by a primary and a fallback');
  const strict = new PutCore(targets, 2, 2);
  strict.ack('a');
  strict.ack('d');
  t.equal(strict.outcome(), 'pending', 'PW=2 still needs a second primary');
  strict.ack('b');
  t.equal(strict.outcome(), 'met');
  const impossible = new PutCore(targets, 1, 3);
  t.equal(impossible.outcome(), 'failed', 'PW=3 with a primary replaced by a fallback fails at once');
  t.match(impossible.counts().failures, /primaries: 0\/3/);
});
