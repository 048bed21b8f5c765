#!/usr/bin/env node
// One-time (and idempotent) setup for a fresh clone: installs the pinned pnpm into .tools/
// with npm, installs the workspace's dependencies (compiling better-sqlite3, ~2 minutes the
// first time), and builds every package. Safe to run again: each step is skipped when done.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, toolsDir, pnpmBin, pnpmVersion, buildEnv } from './tools.mjs';

function run(cmd, args, what) {
  console.log(`[setup] ${what}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: buildEnv() });
  if (r.status !== 0) {
    console.error(`[setup] failed: ${what} (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

function installedPnpmVersion() {
  const pkg = join(toolsDir, 'node_modules', 'pnpm', 'package.json');
  return existsSync(pkg) ? JSON.parse(readFileSync(pkg, 'utf8')).version : undefined;
}

if (installedPnpmVersion() !== pnpmVersion) {
  mkdirSync(toolsDir, { recursive: true });
  writeFileSync(join(toolsDir, 'package.json'), '{ "private": true }\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(npm, ['install', '--prefix', toolsDir, '--no-audit', '--no-fund', `pnpm@${pnpmVersion}`],
    `installing pnpm ${pnpmVersion} into .tools/`);
}
run(process.execPath, [pnpmBin, 'install'], 'installing dependencies (pnpm install)');
run(process.execPath, [pnpmBin, 'run', 'build'], 'building (tsc -b)');
