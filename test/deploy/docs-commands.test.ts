/**
 * Every `ringkv` command in docs/deploy.md and deploy/README.md runs as written (issue 16
 * point 4): each is run through the real CLI with its `--url` pointed at a stand-in server on
 * loopback, which answers every request with a coded 400. A usage error (unknown command or
 * flag, a missing or extra argument: exit 64) fails the test; a command that parsed goes on to
 * send its request, which the stand-in records, and then reports the 400 (exit 1). The
 * stand-in also keeps a command whose doc names a real node's address from reaching anything.
 */
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from '../helpers/process.js';
import { repoFile, shellWords } from './recipe.js';

t.setTimeout(300_000);

const DOCS = ['docs/deploy.md', 'deploy/README.md'];

/** The argv after `ringkv` (or the bundle's `dist/main.js`) of each command in a doc's shell blocks. */
export function documentedCommands(markdown: string): string[][] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const commands: string[][] = [];
  for (const line of blocks.join('\n').replace(/\\\n/g, ' ').split('\n')) {
    const code = line.replace(/\s+#\s.*$/, '');
    const match = /(?:^\s*ringkv|\/opt\/ringkv\/dist\/main\.js)\s+((?:--help|[a-z][a-z-]*)(?:\s.*)?)$/.exec(code);
    if (match !== null) commands.push(shellWords(match[1]!));
  }
  return commands;
}

interface StandIn {
  readonly url: string;
  readonly requests: string[];
}

async function standIn(t: Test): Promise<StandIn> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'KV_ERR_BAD_REQUEST', message: 'stand-in for docs checks' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** Without its --url (replaced below), a command shown several times is run once. */
const withoutUrl = (argv: readonly string[]) => argv.filter((word, i) => word !== '--url' && argv[i - 1] !== '--url' && !word.startsWith('--url=')).join(' ');
const commands = [...new Map(DOCS.flatMap((doc) => documentedCommands(repoFile(doc)).map((argv) => [withoutUrl(argv), { doc, argv }] as const))).values()];

t.test('the docs show the day-2 commands', async (t) => {
  const names = new Set(commands.map((c) => c.argv[0]));
  for (const name of ['status', 'put', 'get', 'leave', 'remove']) t.ok(names.has(name), `ringkv ${name} is shown`);
});

/** Runs one documented command against a stand-in of its own; asserts it parsed and sent its request. */
async function check(t: Test, doc: string, argv: readonly string[]): Promise<void> {
  const server = await standIn(t);
  const what = `${doc}: ringkv ${argv.join(' ')}`;
  // A --url of our own, last, overrides the doc's (the CLI keeps the last value of a flag).
  const run = await runCli(t, argv[0] === '--help' ? argv : [...argv, '--url', server.url], 60_000);
  t.not(run.code, 64, `${what}: no usage error${run.code === 64 ? ` (${run.stderr.split('\n')[0]})` : ''}`);
  if (argv[0] === '--help') t.match(run.stdout, /^usage: ringkv/, `${what}: prints the usage`);
  else t.ok(server.requests.length > 0, `${what}: sent ${server.requests.join(', ') || 'nothing'}`);
}

t.test('every documented ringkv command parses and sends its request', async (t) => {
  // Two at a time (the machines that run this have two cores): process start-up is most of it.
  for (let i = 0; i < commands.length; i += 2) {
    await Promise.all(commands.slice(i, i + 2).map(({ doc, argv }) => check(t, doc, argv)));
  }
});

t.test('the check catches a command the CLI does not have, and a flag it does not take', async (t) => {
  const server = await standIn(t);
  for (const markdown of ['```sh\nringkv decommission node-d\n```\n', '```sh\nringkv status --wait\n```\n']) {
    const [argv] = documentedCommands(markdown);
    const run = await runCli(t, [...argv!, '--url', server.url], 20_000);
    t.equal(run.code, 64, `ringkv ${argv!.join(' ')}: a usage error`);
  }
});
