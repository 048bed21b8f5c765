/**
 * Clock steps for real node processes through libfaketime (Debian package `faketime`):
 * a node started with `LD_PRELOAD=libfaketime.so.1 FAKETIME=+15s` sees its wall clock
 * (`Date.now()`) 15 s ahead, while `FAKETIME_DONT_FAKE_MONOTONIC=1` keeps the monotonic clock
 * (and so Node's timers) real (measured: ../shared/ENVIRONMENT.md).
 *
 * `ensureFaketime` installs the package with apt-get when the library is missing (CI runs as
 * root with Debian's archive reachable) and throws a clear error when it cannot: a test that
 * needs clock steps must fail then, never pass without them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's faketime package puts the library, by architecture. */
const LIBRARY_PATHS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

function findLibrary(): string | undefined {
  return LIBRARY_PATHS.find((path) => existsSync(path));
}

function aptGet(args: string[]): string {
  try {
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: 'pipe', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return '';
  } catch (error) {
    const failure = error as { stderr?: Buffer; message: string };
    return failure.stderr?.toString().trim().split('\n').slice(-3).join(' / ') || failure.message;
  }
}

let library: string | undefined;

/**
 * The path of libfaketime.so.1, installing `faketime` with apt-get (after `apt-get update` if
 * the first attempt fails) when it is missing. Throws with what went wrong otherwise.
 */
export function ensureFaketime(): string {
  library ??= findLibrary();
  if (library !== undefined) return library;
  const first = aptGet(['install', '-y', 'faketime']);
  library = findLibrary();
  if (library === undefined) {
    const update = aptGet(['update']);
    const second = aptGet(['install', '-y', 'faketime']);
    library = findLibrary();
    if (library === undefined) {
      throw new Error(
        `clock steps need libfaketime and it could not be installed (apt-get install -y faketime: ${first || 'no error'}; ` +
          `apt-get update: ${update || 'ok'}; second install: ${second || 'no error'}). Install the Debian package faketime ` +
          `as root, or run the fault test with FAULT_MEMBERSHIP=0 (no membership or clock nemesis).`,
      );
    }
  }
  return library;
}

/** The environment that starts a process with its wall clock `offsetMs` ahead (or behind, < 0). */
export function faketimeEnv(offsetMs: number): NodeJS.ProcessEnv {
  const seconds = offsetMs / 1000;
  return {
    LD_PRELOAD: ensureFaketime(),
    FAKETIME: `${seconds >= 0 ? '+' : '-'}${Math.abs(seconds)}s`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    FAKETIME_DONT_RESET: '1',
  };
}
