#!/usr/bin/env node
// Runs the test suite with tap and ends with the line CI reads: `N passed, N failed`
// (tap's own summary is a YAML-ish comment CI does not parse). Exits non-zero when any
// test failed or tap itself failed. Extra arguments go to tap (for example a file list), in
// one tap run, as before.
//
// Without arguments (the default suite, what CI runs) the files are run in batches on
// `RINGKV_TEST_LANES` lanes (default 2, one per core), longest first from the measured times
// in scripts/test-times.json (see test-schedule.mjs for why tap's own alphabetical order
// wasted two minutes). Each batch is one `tap --save=<list>` run with one job: `--save` makes
// tap run exactly that list and, unlike a plain file list, keeps it from emptying
// .tap/processinfo while the other lane's tests write there. Each batch's output is printed
// whole when it ends, as tap prints a file's output when it runs files in parallel.
// `RINGKV_TEST_TIMES_OUT=<file>` writes the measured seconds per file there, to refresh the
// table.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './tools.mjs';
import { fileSecondsFromTap, planBatches, tapSummary } from './test-schedule.mjs';

const tapBin = join(root, 'node_modules', '.bin', 'tap');

function run(args, { capture, echo = true }) {
  return new Promise((resolve) => {
    const child = spawn(tapBin, args, { cwd: root, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let text = '';
    child.stdout?.on('data', (chunk) => {
      if (echo) process.stdout.write(chunk);
      text += chunk.toString('utf8');
    });
    child.on('exit', (code, signal) => resolve({ code: code ?? 1, signal, text }));
  });
}

/** Counts of one tap run; a run that failed without a failed count counts one failure. */
function counts(result) {
  const summary = tapSummary(result.text);
  const total = summary ?? { pass: 0, fail: 0, skip: 0 };
  if (summary === undefined || (result.code !== 0 && total.fail === 0)) total.fail += 1;
  return total;
}

function finish(total, ok) {
  const { pass, fail, skip } = total;
  console.log(`\n${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
  process.exit(fail > 0 || !ok ? 1 : 0);
}

async function runChosen(args) {
  const result = await run(['--reporter=tap', ...args], { capture: true });
  finish(counts(result), result.code === 0);
}

async function runScheduled() {
  const listed = await run(['list'], { capture: true, echo: false });
  const files = listed.text.split('\n').map((line) => line.trim()).filter(Boolean);
  if (listed.code !== 0 || files.length === 0) finish({ pass: 0, fail: 1, skip: 0 }, false);
  const times = JSON.parse(readFileSync(join(root, 'scripts', 'test-times.json'), 'utf8'));
  const lanes = Number(process.env.RINGKV_TEST_LANES ?? 2);
  const batches = planBatches(files, times, { lanes });
  const listDir = join(root, '.tap', 'batches');
  rmSync(listDir, { recursive: true, force: true });
  rmSync(join(root, '.tap', 'processinfo'), { recursive: true, force: true });
  mkdirSync(listDir, { recursive: true });
  console.log(`# ${files.length} files in ${batches.length} batches on ${lanes} lanes, longest first`);

  const total = { pass: 0, fail: 0, skip: 0 };
  const measured = {};
  const started = Date.now();
  let next = 0;
  let ok = true;
  const lane = async (laneNumber) => {
    while (next < batches.length) {
      const index = next++;
      const batch = batches[index];
      const listFile = join(listDir, `${index}.txt`);
      writeFileSync(listFile, batch.files.join('\n') + '\n');
      const batchStarted = Date.now();
      const result = await run(['--reporter=tap', '--jobs=1', `--save=${listFile}`], { capture: true, echo: false });
      const seconds = ((Date.now() - batchStarted) / 1000).toFixed(1);
      process.stdout.write(
        `# batch ${index + 1}/${batches.length} on lane ${laneNumber}: ${batch.files.length} files, ` +
          `${batch.seconds} s expected, ${seconds} s taken (at ${((Date.now() - started) / 1000).toFixed(0)} s)\n` +
          result.text,
      );
      const batchCounts = counts(result);
      total.pass += batchCounts.pass;
      total.fail += batchCounts.fail;
      total.skip += batchCounts.skip;
      ok &&= result.code === 0;
      Object.assign(measured, fileSecondsFromTap(result.text));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, (_, laneIndex) => lane(laneIndex + 1)));

  const slowest = Object.entries(measured).sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(`# all batches done in ${((Date.now() - started) / 1000).toFixed(0)} s; slowest files:`);
  for (const [file, seconds] of slowest) console.log(`#   ${String(seconds).padStart(6)} s  ${file}`);
  if (process.env.RINGKV_TEST_TIMES_OUT) {
    const sorted = Object.fromEntries(Object.entries(measured).sort((a, b) => b[1] - a[1]));
    writeFileSync(process.env.RINGKV_TEST_TIMES_OUT, JSON.stringify(sorted, null, 1) + '\n');
  }
  finish(total, ok);
}

// tap's plugin list (.taprc) is compiled into its runner; rebuild it so a fresh clone uses ours.
const built = await run(['build'], { capture: false });
if (built.code !== 0) finish({ pass: 0, fail: 1, skip: 0 }, false);

const args = process.argv.slice(2);
await (args.length > 0 ? runChosen(args) : runScheduled());
