// TurnBatcher with a scheduler the test drives: one flush per turn, never an empty one.
import t from 'tap';
import { TurnBatcher, type Scheduler } from './turn-batcher.js';

function harness() {
  const scheduled: (() => void)[] = [];
  const flushed: string[][] = [];
  const schedule: Scheduler = (flush) => void scheduled.push(flush);
  const batcher = new TurnBatcher<string[]>(schedule, () => [], (batch) => void flushed.push(batch));
  return { batcher, scheduled, flushed };
}

t.test('adds of one turn are one batch, flushed once, by the scheduled flush', async (t) => {
  const { batcher, scheduled, flushed } = harness();
  batcher.add().push('a');
  batcher.add().push('b');
  batcher.add().push('c');
  t.equal(scheduled.length, 1, 'one flush asked for, however many adds');
  t.same(batcher.current, ['a', 'b', 'c'], 'the batch being collected can be looked into');
  t.same(flushed, [], 'nothing flushed before the scheduler runs it');
  scheduled.shift()!();
  t.same(flushed, [['a', 'b', 'c']]);
  t.same(batcher.current, [], 'a fresh batch collects the next turn');
  batcher.add().push('d');
  t.equal(scheduled.length, 1, 'the next turn asks again');
  scheduled.shift()!();
  t.same(flushed, [['a', 'b', 'c'], ['d']]);
});

t.test('a flush by hand (close) takes the batch; the flush still scheduled then finds nothing', async (t) => {
  const { batcher, scheduled, flushed } = harness();
  batcher.add().push('a');
  batcher.flushNow();
  t.same(flushed, [['a']]);
  scheduled.shift()!();
  t.same(flushed, [['a']], 'no empty batch is ever flushed');
  batcher.flushNow();
  t.same(flushed, [['a']], 'nor by hand');
  batcher.add().push('b');
  t.equal(scheduled.length, 1, 'after a flush by hand, the next add asks for a flush again');
  scheduled.shift()!();
  t.same(flushed, [['a'], ['b']]);
});
