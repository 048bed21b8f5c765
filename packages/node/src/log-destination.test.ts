// The node's log destination on a disk that refuses writes: a real process whose stdout is a
// file under a 100 KiB file-size limit (bash's ulimit -f: every write past it fails with EFBIG,
// as on a full disk) logs 20,000 lines; it must keep running, count the failed writes, and exit
// by itself. pino's default destination, in the same place, hangs at exit retrying the write.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const DIST = fileURLToPath(new URL('../dist/log-destination.js', import.meta.url));
const LIMIT_KIB = 100;

t.test('a log that cannot be written is dropped and counted, never fatal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'node.log');
  const script = `import { stdoutLog } from ${JSON.stringify(DIST)};
const { logger, failedWrites } = stdoutLog('info', { nodeId: 'n1' });
for (let i = 0; i < 20000; i++) logger.info({ i }, 'a line among many that fill the file');
process.stderr.write('alive failed=' + failedWrites() + '\\n');`;
  // tap preloads a hook into children through NODE_OPTIONS that re-raises SIGXFSZ; a node
  // started by an operator has none (and main.ts ignores the signal anyway).
  const child = spawn('bash', ['-c', `unset NODE_OPTIONS; ulimit -f ${LIMIT_KIB}; exec "${process.execPath}" --input-type=module -e "$0" > "${out}"`, script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  t.teardown(() => clearTimeout(timer));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  t.same([code, signal], [0, null], `the process ends by itself with status 0 (stderr: ${stderr.slice(0, 500)})`);
  const failed = Number(/alive failed=(\d+)/.exec(stderr)?.[1] ?? -1);
  t.ok(failed > 0, `writes failed and were counted (${failed})`);
  t.ok(statSync(out).size <= LIMIT_KIB * 1024, 'the file stopped at the limit');
});
