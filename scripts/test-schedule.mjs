// How run-tests.mjs splits the default suite between its lanes. tap itself always runs files
// in alphabetical order, so with `jobs: 2` the longest file (test/sim/cluster.test.ts, near
// the end of the alphabet) started when little else was left and ran alone for two minutes
// while the other core idled. Here the files are packed into batches, longest first (the LPT
// rule of list scheduling: its makespan is within 4/3 of the best), and each lane takes the
// next batch as it finishes one. Each batch is one tap run; a tap start costs about 1.5 s, so
// batches hold several short files (about 20 batches for 150 files), and shrink towards the
// end of the queue, where small batches even out the lanes' finishing times. Pure: no clock,
// no file system.

/** Seconds assumed for a file the timing table does not know yet (a test added since). */
export const unknownFileSeconds = 10;

/**
 * Splits `files` into batches in the order lanes should take them.
 * @param {string[]} files test files, as tap lists them
 * @param {Record<string, number>} secondsByFile measured seconds per file (any subset)
 * @param {{ lanes: number, batchSecondsMax?: number, batchSecondsMin?: number }} options
 * @returns {{ files: string[], seconds: number }[]}
 */
export function planBatches(files, secondsByFile, options) {
  const lanes = Math.max(1, Math.floor(options.lanes));
  const batchSecondsMax = options.batchSecondsMax ?? 90;
  const batchSecondsMin = options.batchSecondsMin ?? 15;
  const estimated = [...new Set(files)]
    .map((file) => ({ file, seconds: secondsByFile[file] ?? unknownFileSeconds }))
    // Longest first; ties by name so a plan is the same on every machine.
    .sort((a, b) => b.seconds - a.seconds || a.file.localeCompare(b.file, 'en'));
  let remaining = estimated.reduce((sum, entry) => sum + entry.seconds, 0);
  const batches = [];
  let current = null;
  for (const entry of estimated) {
    // A batch may hold about half of what each lane still has to run: large while much is
    // left (few tap starts), small at the end (lanes finish close together).
    const target = Math.min(batchSecondsMax, Math.max(batchSecondsMin, remaining / (lanes * 2)));
    if (current === null || current.seconds + entry.seconds > target) {
      current = { files: [], seconds: 0 };
      batches.push(current);
    }
    current.files.push(entry.file);
    current.seconds += entry.seconds;
    remaining -= entry.seconds;
  }
  return batches
    .sort((a, b) => b.seconds - a.seconds)
    .map((batch) => ({ files: batch.files, seconds: Math.round(batch.seconds * 10) / 10 }));
}

/**
 * Per-file seconds from tap's TAP output: each file is a top-level test point such as
 * `ok 3 - test/x.test.ts # time=1234.5ms`.
 * @param {string} tapText
 * @returns {Record<string, number>}
 */
export function fileSecondsFromTap(tapText) {
  const seconds = {};
  for (const match of tapText.matchAll(/^(?:not )?ok \d+ - (\S+) # time=([\d.]+)ms/gm)) {
    seconds[match[1]] = Math.round(Number(match[2]) / 100) / 10;
  }
  return seconds;
}

/**
 * The counts in tap's closing summary comment, such as `# { total: 72, pass: 70, fail: 1 }`
 * (the last one in the text), or undefined when tap printed none.
 * @param {string} tapText
 */
export function tapSummary(tapText) {
  const summary = [...tapText.matchAll(/^# \{ total: (\d+)(.*?)\}/gm)].at(-1);
  if (summary === undefined) return undefined;
  const field = (name) => Number(summary[2].match(new RegExp(`${name}: (\\d+)`))?.[1] ?? 0);
  return { pass: field('pass'), fail: field('fail'), skip: field('skip') + field('todo') };
}
