#!/usr/bin/env node
// Runs the test suite with tap and ends with the line CI reads: `N passed, N failed`
// (tap's own summary is a YAML-ish comment CI does not parse). Exits non-zero when any
// test failed or tap itself failed. Extra arguments go to tap (for example a file list).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from './tools.mjs';

const tapBin = join(root, 'node_modules', '.bin', 'tap');

function run(args, { capture }) {
  return new Promise((resolve) => {
    const child = spawn(tapBin, args, { cwd: root, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let tail = '';
    child.stdout?.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    child.on('exit', (code, signal) => resolve({ code: code ?? 1, signal, tail }));
  });
}

// tap's plugin list (.taprc) is compiled into its runner; rebuild it so a fresh clone uses ours.
const built = await run(['build'], { capture: false });
if (built.code !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const result = await run(['--reporter=tap', ...process.argv.slice(2)], { capture: true });
// tap ends with a comment such as `# { total: 72, pass: 70, fail: 1, skip: 1 }`.
const summary = [...result.tail.matchAll(/# \{ total: (\d+)(.*?)\}/g)].at(-1);
const field = (name) => Number(summary?.[2].match(new RegExp(`${name}: (\\d+)`))?.[1] ?? 0);
let passed = field('pass');
let failed = field('fail');
const skipped = field('skip') + field('todo');
if (summary === undefined || (result.code !== 0 && failed === 0)) failed += 1; // tap failed without a count
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || result.code !== 0 ? 1 : 0);
