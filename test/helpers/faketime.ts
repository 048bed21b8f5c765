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
import { existsSync } from 'node:fs';
import { ensureDebianPackage } from './debian-package.js';

/** Where Debian's faketime package puts the library, by architecture. */
const LIBRARY_PATHS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

/**
 * The path of libfaketime.so.1, installing `faketime` with apt-get when it is missing. Throws
 * with what went wrong otherwise (run the fault test with FAULT_MEMBERSHIP=0 to do without
 * clock steps).
 */
export function ensureFaketime(): string {
  return ensureDebianPackage('faketime', () => LIBRARY_PATHS.find((path) => existsSync(path)));
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
