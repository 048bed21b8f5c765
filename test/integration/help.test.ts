/**
 * Every `ringkv` command answers `--help` with its usage and exit 0 (issue 13, point 2), names
 * every flag it parses, and answers an unknown flag with one line and exit 64 instead of a
 * stack trace. Table-driven; real processes, three at a time (each loads the whole CLI, a
 * second or two of a shared core). The bench scripts' half is help-bench.test.ts.
 */
import t from 'tap';
import { nodeOptions } from '@ringkv/cli';
import { runCli } from '../helpers/process.js';

const DEADLINE_MS = 60_000;

/** Each command and the flags it parses (node's come from the parser itself). */
const commands: Record<string, readonly string[]> = {
  up: ['nodes', 'n', 'port', 'dir'],
  node: Object.keys(nodeOptions),
  get: ['r', 'json', 'url', 'timeout-ms', 'token', 'cacert'],
  put: ['w', 'context', 'content-type', 'url', 'timeout-ms', 'token', 'cacert'],
  del: ['w', 'context', 'url', 'timeout-ms', 'token', 'cacert'],
  dt: ['r', 'w', 'context', 'url', 'timeout-ms', 'token', 'cacert'],
  status: ['json', 'watch', 'interval-ms', 'url', 'token', 'dir', 'cacert'],
  ring: ['json', 'url', 'token', 'dir', 'cacert'],
  members: ['json', 'url', 'token', 'dir', 'cacert'],
  preflist: ['json', 'url', 'token', 'dir', 'cacert'],
  leave: ['url', 'token', 'dir', 'cacert'],
  remove: ['url', 'token', 'dir', 'cacert'],
  transfers: ['json', 'url', 'token', 'dir', 'cacert'],
  local: ['json', 'url', 'token', 'dir', 'cacert'],
  repair: ['peer', 'json', 'url', 'token', 'dir', 'cacert'],
  'anti-entropy': ['peer', 'json', 'url', 'token', 'dir', 'cacert'],
  snapshot: ['out', 'url', 'token', 'dir', 'cacert'],
  restore: ['from', 'dir', 'tombstone-grace-ms'],
  ls: ['prefix', 'limit', 'after', 'all', 'r', 'json', 'url', 'timeout-ms', 'token', 'cacert'],
  watch: ['r', 'context', 'json', 'count', 'poll-timeout-ms', 'url', 'token', 'cacert'],
};

/** Runs `work` over `items`, `width` at a time. */
async function inPool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

t.test('ringkv <command> --help: usage, every flag, exit 0', async (t) => {
  const asks = Object.entries(commands).flatMap(([command, flags]) => ['--help', '-h'].map((ask) => ({ command, flags, ask })));
  await inPool(asks, 3, async ({ command, flags, ask }) => {
    const result = await runCli(t, [command, ask], DEADLINE_MS);
    t.equal(result.code, 0, `ringkv ${command} ${ask} exits 0`);
    t.match(result.stdout, new RegExp(`^usage: ringkv ${command}`), `ringkv ${command} ${ask} prints its usage`);
    if (ask === '-h') return;
    const missing = flags.filter((flag) => !result.stdout.includes(`--${flag}`));
    t.same(missing, [], `ringkv ${command} --help names every flag it parses`);
  });
  const top = await runCli(t, ['--help'], DEADLINE_MS);
  t.equal(top.code, 0, 'ringkv --help exits 0');
  for (const command of Object.keys(commands)) t.match(top.stdout, new RegExp(`\\n  ${command} `), `ringkv --help lists ${command}`);
  const bad = await runCli(t, ['up', '--no-such-flag'], DEADLINE_MS);
  t.equal(bad.code, 64, 'an unknown flag is a usage error (64)');
  t.notMatch(bad.stderr, /\n\s+at /, 'without a stack trace');
});
