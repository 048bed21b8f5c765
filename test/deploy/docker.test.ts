/**
 * deploy/docker/Dockerfile against the repository and the CLI (issue 16 point 4). No image can
 * be built here (no registry), so each instruction is checked against what it relies on:
 * every COPY source exists and is in the build context (.dockerignore), every workspace
 * member's package.json is copied (pnpm's frozen lockfile names them), every `npm run` script
 * exists, the runtime stage copies what the build stage's bundle command writes, both stages
 * run the same Node major and Debian release (better-sqlite3's compiled addon is tied to both),
 * the entrypoint is the bundled `ringkv` bin with `ringkv node` flags the CLI parses and the
 * node accepts (with the documented `docker run` arguments), the exposed ports, volume and
 * health check line up with those flags, the CLI's defaults and the node's real routes.
 * bundle.test.ts runs the entrypoint from a real bundle.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nodeOptions } from '@ringkv/cli';
import { REPO_ROOT } from '../helpers/process.js';
import { dockerignorePatterns, execForm, ignored, parseCopy, parseDockerfile, type Instruction } from './dockerfile.js';
import { cliBinPath, defaultPorts, flagValue, nodeConfigFor, nodeGetRoutes, repoFile, rootScripts, shellWords } from './recipe.js';

const DOCKERFILE = 'deploy/docker/Dockerfile';
const dockerfile = parseDockerfile(repoFile(DOCKERFILE));
const ignore = dockerignorePatterns(repoFile('.dockerignore'));
const runtimeStage = dockerfile.stages.length - 1;
const inStage = (stage: number, keyword: string): Instruction[] => dockerfile.instructions.filter((i) => i.stage === stage && i.keyword === keyword);
const last = (keyword: string): Instruction => {
  const found = inStage(runtimeStage, keyword).at(-1);
  if (found === undefined) throw new Error(`${DOCKERFILE}'s runtime stage has no ${keyword}`);
  return found;
};
const entrypoint = execForm(last('ENTRYPOINT').text);
/** Files git tracks under `path` (the sources a clean checkout has). */
const tracked = (path: string): string[] => execFileSync('git', ['ls-files', '--', path], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter((f) => f !== '');

/** `docker run` examples (Dockerfile comments, docs/deploy.md): the words after the image. */
function dockerRunArgs(text: string, image: string): string[][] {
  const joined = text.replace(/\\\n\s*(#\s*)?/g, ' ');
  return [...joined.matchAll(/^\s*(?:#\s*)?docker run (.*)$/gm)].map((match) => {
    const words = shellWords(match[1]!);
    const at = words.indexOf(image);
    if (at < 0) throw new Error(`a docker run example does not run ${image}: ${match[0]}`);
    return words.slice(at + 1);
  });
}

const imageTag = /docker build .*-t (\S+)/.exec(repoFile(DOCKERFILE))?.[1];

t.test('every COPY source of the build context exists, is tracked by git and is not dockerignored', async (t) => {
  const copies = dockerfile.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.text));
  for (const copy of copies.filter((c) => c.from === undefined)) {
    for (const source of copy.sources) {
      t.ok(existsSync(join(REPO_ROOT, source)), `${source} exists`);
      const files = tracked(source);
      t.ok(files.length > 0, `${source}: git tracks files there`);
      t.same(files.filter((file) => ignored(ignore, file)), [], `${source}: .dockerignore keeps every tracked file of it in the context`);
    }
  }
  const copied = (file: string) => copies.some((c) => c.from === undefined && c.sources.some((s) => file === s || (s.endsWith('/') && file.startsWith(s))));
  const members = (repoFile('pnpm-workspace.yaml').match(/^\s+- (\S+)$/gm) ?? []).map((line) => line.trim().slice(2));
  const manifests = tracked('.').filter((file) => members.some((member) => new RegExp(`^${member.replace(/\*/g, '[^/]+')}/package\\.json$`).test(file)));
  t.ok(manifests.length >= members.length, `pnpm-workspace.yaml's members have manifests (${manifests.join(', ')})`);
  for (const manifest of manifests) t.ok(copied(manifest), `${manifest} (a workspace member) is copied`);
  for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'tsconfig.base.json', 'scripts/bootstrap.mjs', 'packages/cli/src/main.ts']) {
    t.ok(copied(file), `${file} is copied`);
  }
});

t.test('.dockerignore keeps built and installed files out of the context', async (t) => {
  for (const path of ['node_modules/.pnpm/x', 'packages/node/node_modules/x', 'packages/cli/dist/main.js', '.tools/node_modules/pnpm', '.git/HEAD', 'data/node1/ringkv.db']) {
    t.ok(ignored(ignore, path), `${path} is left out`);
  }
});

t.test('every RUN npm script exists, and the runtime copies what the bundle command writes', async (t) => {
  const scripts = rootScripts();
  const runs = dockerfile.instructions.filter((i) => i.keyword === 'RUN' && /^npm run /.test(i.text));
  t.ok(runs.length >= 2, 'the build stage runs the setup and bundle scripts');
  for (const run of runs) t.ok(scripts[shellWords(run.text)[2]!] !== undefined, `package.json has the script of: RUN ${run.text}`);
  const bundle = runs.find((r) => shellWords(r.text)[2] === 'bundle');
  t.match(scripts.bundle, /deploy --prod/, 'the bundle script is pnpm deploy --prod: production dependencies only');
  const output = shellWords(bundle!.text).at(-1)!;
  const fromBuild = inStage(runtimeStage, 'COPY').map((i) => parseCopy(i.text)).find((c) => c.from !== undefined);
  t.equal(fromBuild?.from, dockerfile.stages[bundle!.stage]!.name, 'the runtime copies from the stage that bundled');
  t.same(fromBuild?.sources, [output], `it copies the bundle's output (${output})`);
  t.equal(entrypoint[1], `${fromBuild!.destination}/${cliBinPath()}`, "the entrypoint runs the bundle's ringkv bin (packages/cli/package.json)");
});

t.test('both stages run the same Node major on the same Debian release; the runtime one is slim', async (t) => {
  const [build, runtime] = [dockerfile.stages[0]!, dockerfile.stages[runtimeStage]!];
  const parse = (image: string) => /^node:(\d+)-([a-z]+)(-slim)?$/.exec(image);
  t.ok(parse(build.image) && parse(runtime.image), 'both are official node images with a Debian tag');
  t.equal(parse(build.image)![1], parse(runtime.image)![1], 'same Node major: the compiled better-sqlite3 addon is built for its ABI');
  t.equal(parse(build.image)![2], parse(runtime.image)![2], 'same Debian release: the addon links against its glibc');
  t.equal(parse(runtime.image)![3], '-slim', 'the runtime image is slim (no compilers)');
  const engines = (JSON.parse(repoFile('package.json')) as { engines: { node: string } }).engines.node;
  t.ok(Number(parse(runtime.image)![1]) >= Number(/\d+/.exec(engines)![0]), `Node ${parse(runtime.image)![1]} satisfies engines ${engines}`);
});

t.test('the runtime stage is not root', async (t) => {
  const user = last('USER').text.split(':')[0]!;
  t.not(user, 'root');
  t.not(user, '0');
});

t.test('the entrypoint is `ringkv node` with flags the CLI parses, completed by the documented docker run arguments', async (t) => {
  t.equal(entrypoint[0], 'node');
  t.equal(entrypoint[2], 'node', 'the `ringkv node` command');
  t.throws(() => nodeConfigFor(entrypoint.slice(3)), 'alone it is incomplete (no --id, and a wildcard bind needs --advertise): docker run supplies them');
  t.ok(imageTag, 'the Dockerfile shows its docker build command');
  const examples = [...dockerRunArgs(repoFile(DOCKERFILE), imageTag!), ...dockerRunArgs(repoFile('docs/deploy.md'), imageTag!)];
  t.ok(examples.length >= 2, 'docker run examples found in the Dockerfile and docs/deploy.md');
  for (const args of examples) {
    const config = nodeConfigFor([...entrypoint.slice(3), ...args]);
    t.equal(config.host, '0.0.0.0', `binds every interface of the container: ${args.join(' ')}`);
    t.not(config.advertise, '', 'and advertises an address others can dial');
  }
});

t.test('ports: the entrypoint, EXPOSE, the health check and the CLI defaults agree', async (t) => {
  const http = Number(flagValue(entrypoint, 'port'));
  const gossip = Number(flagValue(entrypoint, 'gossip-port'));
  t.same({ http, gossip }, defaultPorts, "the image uses the CLI's default ports (what docs and clients assume)");
  const exposed = last('EXPOSE').text.split(/\s+/);
  t.same(exposed.sort(), [`${http}/tcp`, `${gossip}/tcp`, `${gossip}/udp`].sort(), 'EXPOSE: HTTP over TCP, gossip over UDP and TCP on one port');
  const health = /^(?:--\S+\s+)*CMD\s+(.*)$/.exec(last('HEALTHCHECK').text);
  const url = /https?:\/\/127\.0\.0\.1:(\d+)(\/\w*)/.exec(execForm(health![1]!).join(' '));
  t.ok(url, 'the health check fetches a local URL');
  t.equal(Number(url![1]), http, 'on the HTTP port');
  t.ok(nodeGetRoutes().has(url![2]!), `${url![2]} is a GET route of the node`);
  t.equal(url![2], '/livez', 'the liveness route: a health check must not fail while the ring is degraded');
});

t.test('the data directory is a volume, and SIGTERM stops the container', async (t) => {
  t.same(execForm(last('VOLUME').text), [flagValue(entrypoint, 'dir')], 'VOLUME is --dir');
  t.equal(last('STOPSIGNAL').text, 'SIGTERM', 'SIGTERM drains the node (main.ts)');
});

t.test("docs/deploy.md's port table names real flags and the CLI's defaults", async (t) => {
  const rows = [...repoFile('docs/deploy.md').matchAll(/^\| (\d+) \| ([A-Za-z ]+) \| .* \| `--([a-z-]+)` \((\d+)\) \|$/gm)];
  const byFlag = new Map(rows.map((row) => [row[3]!, { port: Number(row[1]), protocols: row[2]!, default: Number(row[4]) }]));
  t.same([...byFlag.keys()].sort(), ['gossip-port', 'port'], 'one row per port flag');
  for (const flag of byFlag.keys()) t.ok(flag in nodeOptions, `--${flag} is a ringkv node flag`);
  t.same({ http: byFlag.get('port')!.port, gossip: byFlag.get('gossip-port')!.port }, defaultPorts, "the ports are the CLI's defaults");
  t.same({ http: byFlag.get('port')!.default, gossip: byFlag.get('gossip-port')!.default }, defaultPorts, 'and so are the defaults it names');
  t.match(byFlag.get('gossip-port')!.protocols, /UDP and TCP/, 'gossip: UDP and TCP, as EXPOSE says');
});
