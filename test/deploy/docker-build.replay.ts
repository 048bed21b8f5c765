/**
 * The Dockerfile's build stage, replayed without Docker (`npm run check:docker-build`; not in
 * the default run: it installs pnpm and builds everything, a minute or more). The build
 * context (git's files less .dockerignore) is copied to a temporary root, each COPY of the build
 * stage places its files there, each RUN runs there with the image's absolute paths moved
 * under the root, and then the runtime stage's program (the bundle at the COPY --from path)
 * starts a node with the entrypoint flags and answers /livez. What it cannot replay: the base
 * images themselves (their Node, Debian and compilers are this machine's).
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { REPO_ROOT, http, httpAgent, spawnNode, stopByPid, tempDir } from '../helpers/process.js';
import { dockerignorePatterns, execForm, ignored, parseCopy, parseDockerfile } from './dockerfile.js';
import { cliBinPath, repoFile } from './recipe.js';

t.setTimeout(900_000);

const dockerfile = parseDockerfile(repoFile('deploy/docker/Dockerfile'));
const ignore = dockerignorePatterns(repoFile('.dockerignore'));
const context = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file !== '' && !ignored(ignore, file));

/** Copies the context files a COPY names into `root`, as Docker does (a directory's contents go under the destination). */
function replayCopy(root: string, workdir: string, text: string): void {
  const copy = parseCopy(text);
  const destination = posix.resolve(workdir, copy.destination);
  for (const source of copy.sources) {
    const prefix = source.replace(/\/$/, '');
    const files = context.filter((file) => file === prefix || file.startsWith(`${prefix}/`));
    if (files.length === 0) throw new Error(`COPY ${source}: nothing in the build context`);
    for (const file of files) {
      const target = file === prefix ? (copy.destination.endsWith('/') ? posix.join(destination, posix.basename(file)) : destination) : posix.join(destination, file.slice(prefix.length + 1));
      mkdirSync(dirname(join(root, target)), { recursive: true });
      cpSync(join(REPO_ROOT, file), join(root, target));
    }
  }
}

t.test('the build stage, replayed in a copy of the build context, produces a bundle that runs a node', async (t) => {
  const root = await tempDir(t, 'ringkv-docker-replay-');
  const build = dockerfile.stages.findIndex((stage) => stage.name !== undefined);
  let workdir = '/';
  for (const instruction of dockerfile.instructions.filter((i) => i.stage === build)) {
    if (instruction.keyword === 'WORKDIR') workdir = posix.resolve(workdir, instruction.text);
    if (instruction.keyword === 'COPY') replayCopy(root, workdir, instruction.text);
    if (instruction.keyword === 'RUN') {
      const command = instruction.text.replace(/(^|\s)\/(?=[a-z])/g, `$1${root}/`);
      mkdirSync(join(root, workdir), { recursive: true });
      const run = spawnSync('sh', ['-c', command], { cwd: join(root, workdir), encoding: 'utf8', timeout: 600_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
      t.equal(run.status, 0, `RUN ${instruction.text}${run.status === 0 ? '' : `:\n${(run.stdout + run.stderr).slice(-3000)}`}`);
      if (run.status !== 0) return;
    }
  }
  const runtime = dockerfile.stages.length - 1;
  const fromBuild = dockerfile.instructions.filter((i) => i.stage === runtime && i.keyword === 'COPY').map((i) => parseCopy(i.text)).find((c) => c.from !== undefined)!;
  const main = join(root, fromBuild.sources[0]!, cliBinPath());
  const entrypoint = execForm(dockerfile.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)!.text);
  const dir = await tempDir(t);
  const node = await spawnNode(t, { main, dir, id: 'replay1', extraArgs: [...entrypoint.slice(3), '--port', '0', '--gossip-port', '0', '--dir', dir, '--advertise', '127.0.0.1'] });
  t.equal((await http(httpAgent(t), 'GET', `${node.url}/livez`)).status, 200, 'the bundled node answers /livez');
  await stopByPid(node.pid);
});
