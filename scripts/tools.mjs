// Shared by bootstrap.mjs and pnpm.mjs: where the pinned pnpm lives and the environment
// that lets better-sqlite3 compile against the local Node headers.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** The pnpm version pinned in the root package.json (`ringkv.pnpmVersion`). */
export const pnpmVersion = manifest.ringkv.pnpmVersion;
export const toolsDir = join(root, '.tools');
export const pnpmBin = join(toolsDir, 'node_modules', 'pnpm', 'bin', 'pnpm.mjs');

/**
 * node-gyp downloads Node's headers unless told where they are, and this machine (like CI)
 * reaches no host but the npm registry. pnpm ignores `nodedir` in .npmrc, so it goes in the
 * environment: the caller's own value wins, else the first folder that has include/node/node.h.
 */
export function buildEnv() {
  const env = { ...process.env };
  if (!env.npm_config_nodedir) {
    const candidates = ['/usr', '/usr/local', dirname(dirname(process.execPath))];
    const found = candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node.h')));
    if (found) env.npm_config_nodedir = found;
  }
  return env;
}
