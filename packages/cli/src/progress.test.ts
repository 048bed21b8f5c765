// Progress on stderr: rewritten in place on a terminal; off a terminal a line per change, at
// most one per quiet period, and the held-back final state written at the end.
import t from 'tap';
import { formatBytes, Progress } from './progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, isTTY, write: (text: string) => out.push(text) };
}

t.test('on a terminal: one line rewritten in place, ended by done', async (t) => {
  const s = sink(true);
  const p = new Progress(s, () => 0);
  p.update('waiting: 1/3');
  p.update('waiting: 1/3');
  p.update('waiting: 2/3');
  p.done();
  p.done();
  t.same(s.out, ['\r\x1b[Kwaiting: 1/3', '\r\x1b[Kwaiting: 2/3', '\n'], 'a repeat is not rewritten; done ends the line once');
});

t.test('off a terminal: a line per change, at most one per quiet period, the final state kept', async (t) => {
  const s = sink(false);
  let now = 0;
  const p = new Progress(s, () => now, 2_000);
  p.update('waiting: 0/3');
  now = 500;
  p.update('waiting: 1/3');
  now = 1_000;
  p.update('waiting: 2/3');
  t.same(s.out, ['waiting: 0/3\n'], 'changes within the quiet period are held back');
  now = 2_500;
  p.update('waiting: 2/3');
  t.same(s.out, ['waiting: 0/3\n', 'waiting: 2/3\n'], 'the state is written once the period is over');
  now = 2_600;
  p.update('waiting: 3/3');
  p.done();
  t.same(s.out.at(-1), 'waiting: 3/3\n', 'done writes the final state that was held back');
  p.done();
  t.equal(s.out.length, 3, 'and only once');
});

t.test('clear takes the line away and drops a held-back state', async (t) => {
  const tty = sink(true);
  const p = new Progress(tty, () => 0);
  p.update('exchanging with node1');
  p.clear();
  p.clear();
  t.same(tty.out, ['\r\x1b[Kexchanging with node1', '\r\x1b[K'], 'erased once');
  const log = sink(false);
  let now = 0;
  const q = new Progress(log, () => now);
  q.update('exchanging with node1');
  now = 10;
  q.update('exchanging with node2');
  q.clear();
  q.done();
  t.same(log.out, ['exchanging with node1\n'], 'the held-back state is not written after clear');
});

t.test('formatBytes', async (t) => {
  t.equal(formatBytes(512), '512 B');
  t.equal(formatBytes(2048), '2.0 KiB');
  t.equal(formatBytes(3 * 1024 * 1024), '3.0 MiB');
});
