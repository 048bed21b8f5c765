#!/usr/bin/env node
// Runs the project's pinned pnpm (installed by bootstrap.mjs under .tools/) with the
// environment a native build needs. Used by the root npm scripts so a newcomer needs only
// Node.js and npm: nothing is installed globally.
import { spawnSync } from 'node:child_process';
import { pnpmBin, buildEnv } from './tools.mjs';

const result = spawnSync(process.execPath, [pnpmBin, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: buildEnv(),
});
process.exit(result.status ?? 1);
