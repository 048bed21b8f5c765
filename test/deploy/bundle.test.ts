/**
 * The program the recipes install (issue 16 point 4): `npm run bundle -- DIR`, the command the
 * Dockerfile's build stage runs, writes a self-contained folder whose `dist/main.js` (the
 * path the image's ENTRYPOINT and the systemd unit run) starts a node with the image's
 * entrypoint flags, answers its probes, and stops cleanly on SIGTERM. The folder holds
 * production dependencies only (no compiler, no test tools), and better-sqlite3's compiled
 * addon. This is the runtime stage of the image, less the base image.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, http, httpAgent, spawnNode, stopByPid, tempDir, waitExit } from '../helpers/process.js';
import { cliBinPath, repoFile } from './recipe.js';
import { execForm, parseDockerfile } from './dockerfile.js';

t.setTimeout(240_000);

/** Runs `npm run bundle -- out` at the repository root; resolves with its exit status and output tail. */
function bundle(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'bundle', '--', out], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-4000)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-4000)));
    t.teardown(() => {
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
    });
    child.once('close', (code) => resolve({ code, output }));
  });
}

t.test('npm run bundle writes a folder whose ringkv bin runs a node with the image entrypoint flags', async (t) => {
  const out = join(await tempDir(t, 'ringkv-bundle-'), 'opt-ringkv');
  const built = await bundle(out);
  t.equal(built.code, 0, `npm run bundle exits 0${built.code === 0 ? '' : `:\n${built.output}`}`);
  const main = join(out, cliBinPath());
  t.ok(existsSync(main), `${cliBinPath()} is in the bundle`);
  const packages = readdirSync(join(out, 'node_modules', '.pnpm'));
  t.ok(packages.some((name) => name.startsWith('better-sqlite3@')), 'better-sqlite3 is there');
  for (const dev of ['typescript@', 'tap@', 'tsx@', 'fast-check@']) t.notOk(packages.some((name) => name.startsWith(dev)), `no ${dev.slice(0, -1)} (a dev dependency)`);

  const entrypoint = execForm(parseDockerfile(repoFile('deploy/docker/Dockerfile')).instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)!.text);
  const dir = await tempDir(t);
  // The image's flags, then what this machine needs instead: OS-chosen ports, a temporary data
  // directory, and an address to advertise (the image binds 0.0.0.0, which needs one).
  const node = await spawnNode(t, { main, dir, id: 'bundle1', extraArgs: [...entrypoint.slice(3), '--port', '0', '--gossip-port', '0', '--dir', dir, '--advertise', '127.0.0.1'] });
  const agent = httpAgent(t);
  t.equal((await http(agent, 'GET', `${node.url}/livez`)).status, 200, '/livez answers 200');
  t.equal((await http(agent, 'GET', `${node.url}/readyz`)).status, 200, '/readyz answers 200 (a ring of one)');
  t.equal((await http(agent, 'PUT', `${node.url}/kv/bundled`, { body: 'v' })).status, 204, 'a write is stored (SQLite through the bundled addon)');
  await stopByPid(node.pid);
  t.same(await waitExit(node.child, 10_000), { code: 0, signal: null }, 'SIGTERM stops it cleanly (exit 0)');
});
