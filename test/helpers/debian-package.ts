/**
 * Installs a Debian package a test needs, as the test's setup (CI runs as root with Debian's
 * archive reachable). A test that needs the tool fails with the reason when it cannot be
 * installed: it never passes, or is skipped, without it.
 */
import { execFileSync } from 'node:child_process';

function aptGet(args: string[]): string {
  try {
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: 'pipe', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return '';
  } catch (error) {
    const failure = error as { stderr?: Buffer; message: string };
    return failure.stderr?.toString().trim().split('\n').slice(-3).join(' / ') || failure.message;
  }
}

/**
 * Returns what `find` finds, installing `pkg` with apt-get first (then after `apt-get update`)
 * when it finds nothing. Throws with what went wrong otherwise.
 */
export function ensureDebianPackage<T>(pkg: string, find: () => T | undefined): T {
  const found = find();
  if (found !== undefined) return found;
  const first = aptGet(['install', '-y', pkg]);
  const afterFirst = find();
  if (afterFirst !== undefined) return afterFirst;
  const update = aptGet(['update']);
  const second = aptGet(['install', '-y', pkg]);
  const afterSecond = find();
  if (afterSecond !== undefined) return afterSecond;
  throw new Error(`the Debian package ${pkg} is needed and could not be installed (apt-get install -y ${pkg}: ${first || 'no error'}; apt-get update: ${update || 'ok'}; second install: ${second || 'no error'}); install it as root`);
}

/** The path of an executable on PATH, if any. */
export function which(command: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
