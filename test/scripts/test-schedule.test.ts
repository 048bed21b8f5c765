// The default run's schedule (scripts/test-schedule.mjs): every file runs exactly once, the
// longest go first, short files share a tap start, and tap's output is read back right.
import t from 'tap';
import { fileSecondsFromTap, planBatches, tapSummary, unknownFileSeconds } from '../../scripts/test-schedule.mjs';

const times: Record<string, number> = { 'a.test.ts': 2, 'long.test.ts': 160, 'mid.test.ts': 40, 'b.test.ts': 1 };
for (let i = 0; i < 40; i++) times[`short-${i}.test.ts`] = 3;

t.test('every file lands in exactly one batch, unknown files included', async (t) => {
  const files = [...Object.keys(times), 'new.test.ts', 'a.test.ts'];
  const batches = planBatches(files, times, { lanes: 2 });
  const planned = batches.flatMap((batch) => batch.files).sort();
  t.same(planned, [...new Set(files)].sort());
  const withNew = batches.find((batch) => batch.files.includes('new.test.ts'));
  t.ok(withNew !== undefined && withNew.seconds >= unknownFileSeconds);
});

t.test('the longest file is alone in the first batch and batches come longest first', async (t) => {
  const batches = planBatches(Object.keys(times), times, { lanes: 2 });
  t.same(batches[0]?.files, ['long.test.ts']);
  for (let i = 1; i < batches.length; i++) t.ok(batches[i - 1]!.seconds >= batches[i]!.seconds, `batch ${i}`);
});

t.test('short files share batches, each at most the larger of the cap and its one file', async (t) => {
  const batches = planBatches(Object.keys(times), times, { lanes: 2, batchSecondsMax: 30, batchSecondsMin: 10 });
  t.ok(batches.length < Object.keys(times).length / 2, `${batches.length} batches`);
  for (const batch of batches) {
    t.ok(batch.files.length === 1 || batch.seconds <= 30, `${batch.files.join(',')} ${batch.seconds}`);
  }
  // The plan does not depend on the order tap listed the files in.
  t.same(planBatches(Object.keys(times).reverse(), times, { lanes: 2 }), planBatches(Object.keys(times), times, { lanes: 2 }));
});

t.test('per-file seconds and the closing summary are read from TAP output', async (t) => {
  const text = [
    '# Subtest: test/x.test.ts',
    '    ok 1 - inner # time=5.1ms',
    'ok 1 - test/x.test.ts # time=1234.5ms',
    'not ok 2 - test/y.test.ts # time=20000ms',
    '# { total: 12, pass: 9, fail: 1, skip: 1, todo: 1 }',
  ].join('\n');
  t.same(fileSecondsFromTap(text), { 'test/x.test.ts': 1.2, 'test/y.test.ts': 20 });
  t.same(tapSummary(text), { pass: 9, fail: 1, skip: 2 });
  t.equal(tapSummary('no summary here'), undefined);
});
