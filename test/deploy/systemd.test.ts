/**
 * deploy/systemd/ringkv.service against the CLI and the node (issue 16 point 4): ExecStart,
 * with the example env file's values, is a `ringkv node` command line the CLI parses and the
 * node's config accepts; it runs the installed package's `ringkv` bin; the data directory is
 * the unit's StateDirectory; the stop timeout exceeds the node's drain and shutdown grace; the exit
 * status the unit does not restart on is the one the node gives for a start-up refusal (and
 * the example's placeholder admin token gets exactly that). `systemd-analyze verify` (Debian's
 * systemd) must accept the unit without a warning.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '@ringkv/node';
import { ensureDebianPackage, which } from '../helpers/debian-package.js';
import { nodeArgs, runCli, tempDir } from '../helpers/process.js';
import { cliBinPath, flagValue, nodeConfigFor, repoFile, shellWords, stopSecondsMax } from './recipe.js';

t.setTimeout(120_000);

const UNIT_PATH = 'deploy/systemd/ringkv.service';
const ENV_EXAMPLE_PATH = 'deploy/systemd/ringkv.env.example';
/** Where docs/deploy.md installs the pruned package (`npm run bundle -- /opt/ringkv`). */
const INSTALL_DIR = '/opt/ringkv';

type Unit = Map<string, Map<string, string[]>>;

/** A unit file's sections and settings (repeated keys keep every value), as systemd reads it. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const at = line.indexOf('=');
    if (section === undefined || at <= 0) throw new Error(`not a unit-file line: ${line}`);
    const key = line.slice(0, at).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(at + 1).trim()]);
  }
  return unit;
}

function setting(unit: Unit, section: string, key: string): string {
  const values = unit.get(section)?.get(key);
  if (values === undefined || values.length === 0) throw new Error(`${UNIT_PATH} has no ${key}= in [${section}]`);
  return values.at(-1)!;
}

/** KEY=value lines of an environment file (systemd's EnvironmentFile format, no quoting used). */
function parseEnvFile(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const at = line.indexOf('=');
    env.set(line.slice(0, at), line.slice(at + 1));
  }
  return env;
}

/** systemd's `${VAR}` expansion in ExecStart (each one stays one word); undefined variables are an error. */
function expand(words: readonly string[], env: Map<string, string>): string[] {
  return words.map((word) =>
    word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const value = env.get(name);
      if (value === undefined) throw new Error(`ExecStart uses \${${name}}, which ${ENV_EXAMPLE_PATH} does not define`);
      return value;
    }),
  );
}

const unit = parseUnit(repoFile(UNIT_PATH));
const envExample = parseEnvFile(repoFile(ENV_EXAMPLE_PATH));
const execStart = shellWords(setting(unit, 'Service', 'ExecStart'));

t.test('ExecStart runs the installed ringkv bin with `node` and flags the CLI and the node accept', async (t) => {
  const [node, script, command, ...flags] = expand(execStart, envExample);
  t.match(node, /^\/.*\/node$/, 'an absolute path to the node executable (systemd does not search PATH the way a shell does)');
  t.equal(script, `${INSTALL_DIR}/${cliBinPath()}`, 'the script is the installed @ringkv/cli bin (package.json "bin")');
  t.equal(command, 'node', 'the `ringkv node` command');
  const config = nodeConfigFor(flags);
  t.equal(config.nodeId, envExample.get('RINGKV_NODE_ID'));
  t.equal(config.dataDir, `/var/lib/${setting(unit, 'Service', 'StateDirectory')}`, '--dir is the directory systemd creates for the unit (StateDirectory)');
  t.ok(config.seeds.length >= 2, 'the example joins through its peers');
  t.not(flagValue(flags, 'secret-file'), undefined, 'the secret comes from a file, not the command line (ps)');
  t.equal(flagValue(flags, 'secret'), undefined, 'no --secret on the command line');
});

t.test('every variable of the env example is used: by ExecStart, or read by the node itself', async (t) => {
  const used = new Set([...setting(unit, 'Service', 'ExecStart').matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!));
  // The node reads these from its environment (packages/node/src/main.ts, access/admin-token.ts).
  const readByNode = new Set(['RINGKV_ADMIN_TOKEN', 'RINGKV_SECRET']);
  for (const name of envExample.keys()) t.ok(used.has(name) || readByNode.has(name), `${name} is used`);
});

t.test('the example admin token is refused, with the exit status the unit does not restart on', async (t) => {
  const placeholder = envExample.get('RINGKV_ADMIN_TOKEN')!;
  t.throws(() => validateConfig({ secret: 'placeholder-secret', adminToken: placeholder }), /adminToken/, 'the node config refuses the placeholder');
  const run = await runCli(t, nodeArgs({ dir: await tempDir(t) }), 20_000, { RINGKV_ADMIN_TOKEN: placeholder });
  t.equal(run.code, 2, 'a real node started with it exits 2');
  t.match(run.stderr, /KV_ERR_CONFIG.*adminToken/, 'and says why');
  const noRestart = setting(unit, 'Service', 'RestartPreventExitStatus').split(/\s+/);
  t.ok(noRestart.includes(String(run.code)), `RestartPreventExitStatus (${noRestart.join(' ')}) names that status, so systemd does not loop on a refused config or a removed node`);
  t.equal(setting(unit, 'Service', 'Restart'), 'on-failure', 'a crash (exit 1) is restarted; a left node (exit 0) is not');
});

t.test('the stop timeout leaves the node its whole drain and shutdown grace', async (t) => {
  const stop = /^(\d+)s?$/.exec(setting(unit, 'Service', 'TimeoutStopSec'));
  t.ok(stop, 'TimeoutStopSec in seconds');
  t.ok(Number(stop![1]) >= stopSecondsMax + 5, `TimeoutStopSec ${stop![1]} s >= drain + shutdown grace ${stopSecondsMax} s + 5 s to close the database`);
  t.equal(setting(unit, 'Service', 'KillSignal'), 'SIGTERM', 'SIGTERM is what drains the node (main.ts)');
});

t.test('runs as its own unprivileged user with the hardening options', async (t) => {
  const user = setting(unit, 'Service', 'User');
  t.not(user, 'root');
  t.not(user, '0');
  t.match(repoFile('deploy/systemd/ringkv.sysusers'), new RegExp(`^u ${user} `, 'm'), 'the sysusers file creates that user');
  for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['CapabilityBoundingSet', '']]) {
    t.equal(setting(unit, 'Service', key!), value, `${key}=${value}`);
  }
  t.ok(Number(setting(unit, 'Service', 'LimitNOFILE')) >= 4096, 'LimitNOFILE raised');
});

/** `systemd-analyze verify` on a copy of the unit (edited by `edit`): its exit status and all it printed. */
async function verify(t: Test, edit: (text: string) => string): Promise<{ status: number | null; output: string }> {
  const analyze = ensureDebianPackage('systemd', () => which('systemd-analyze'));
  const copy = join(await tempDir(t), 'ringkv.service');
  writeFileSync(copy, edit(repoFile(UNIT_PATH)));
  const run = spawnSync(analyze, ['verify', copy], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}${run.error?.message ?? ''}`.trim() };
}

t.test('systemd-analyze verify accepts the unit without a warning', async (t) => {
  // verify checks that ExecStart's program exists: where Node is not at the unit's path (a CI
  // image), the copy names this Node instead. Nothing else is changed.
  const node = execStart[0]!;
  const result = await verify(t, (text) => (existsSync(node) ? text : text.replace(`ExecStart=${node} `, `ExecStart=${process.execPath} `)));
  t.equal(result.status, 0, 'exit status 0');
  t.equal(result.output, '', 'nothing printed: no unknown key, no bad value, no missing program');
});

t.test('the verify check does catch what systemd would ignore or refuse', async (t) => {
  const typo = await verify(t, (text) => text.replace(/^Restart=/m, 'Restartt='));
  t.match(typo.output, /Unknown key/, 'a misspelt key is a warning (exit status 0, so the output is what is checked)');
  const missing = await verify(t, (text) => text.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node'));
  t.not(missing.status, 0, 'a program that does not exist fails verify');
});
