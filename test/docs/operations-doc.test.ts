// docs/operations.md: every shell block marked `<!-- tested -->` is run, in the doc's order and
// line by line, against a real ring of three nodes (N = 2), and every line must exit 0. `ringkv`
// is the built CLI; `systemctl stop|start|restart ringkv` stands for stopping and starting the
// process of $NODE (node3); $URL is node1, $DIR node3's data directory, $SNAPSHOT a temp file,
// and the admin token comes from RINGKV_ADMIN_TOKEN, as the doc says.
// So the commands the doc shows cannot drift from what the CLI does.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN, DEFAULT_ADMIN_TOKEN, REPO_ROOT, stopByPid, tempDir, waitExit, type NodeProcess, type TestLike } from '../helpers/process.js';
import { restartNode, startRing } from '../helpers/ring.js';

const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

/** The lines of every tested block, in order (blank lines and whole-line comments dropped). */
export function testedLines(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/<!-- tested -->\n```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((block) => block.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#')));
}

t.test('the tested blocks of docs/operations.md are found', async (t) => {
  const lines = testedLines(doc);
  t.ok(lines.length >= 15, `${lines.length} tested lines`);
  for (const needed of ['ringkv repair', 'ringkv snapshot', 'ringkv restore', 'ringkv leave', 'systemctl restart ringkv', 'ringkv status']) {
    t.ok(lines.some((line) => line.startsWith(needed)), `a tested line runs ${needed}`);
  }
  t.ok(lines.every((line) => /^(ringkv|systemctl) /.test(line)), 'every tested line is a ringkv or systemctl command');
});

/** Runs one shell line with bash, `ringkv` being the built CLI; its exit code and output. */
async function runLine(t: TestLike, line: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const script = `ringkv() { "${process.execPath}" "${CLI_MAIN}" "$@"; }\n${line}`;
  const child = spawn('bash', ['-c', script], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const status = await waitExit(child, 60_000);
  await closed;
  return { code: status.code, out };
}

t.test('every tested line of docs/operations.md exits 0 against a real ring', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 2 });
  let node: NodeProcess = ring[2]!;
  const env = { RINGKV_ADMIN_TOKEN: DEFAULT_ADMIN_TOKEN, URL: ring[0]!.url, NODE: node.url, DIR: node.dir, SNAPSHOT: join(await tempDir(t), 'node3.snapshot') };
  for (const line of testedLines(doc)) {
    const systemctl = /^systemctl (stop|start|restart) ringkv/.exec(line);
    if (systemctl?.[1] === 'stop' || systemctl?.[1] === 'restart') await stopByPid(node.pid);
    if (systemctl?.[1] === 'start' || systemctl?.[1] === 'restart') node = await restartNode(t, node, ring, 2);
    if (systemctl !== null) {
      t.pass(line);
      continue;
    }
    const result = await runLine(t, line, env);
    t.equal(result.code, 0, `${line}${result.code === 0 ? '' : `\n${result.out}`}`);
    if (/^ringkv (status|members|local|get|preflist|repair|snapshot|restore)/.test(line)) t.not(result.out.trim(), '', `${line.split('#')[0]!.trim()} printed something`);
    if (line.startsWith('ringkv local greeting')) t.match(result.out, /hello/, 'local shows the value written');
  }
  const leaving = ring.find((n) => n.id === 'node3')!;
  await t.resolves(waitExit(leaving.child, 60_000), 'the node that left stopped by itself');
});
