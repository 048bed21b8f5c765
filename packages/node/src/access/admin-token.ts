/**
 * The admin token (SPEC.md "Security"): `--admin-token`, else `RINGKV_ADMIN_TOKEN`, else a
 * random token generated once into `<dir>/admin-token` (mode 0600) and reused on restart, so a
 * node is never started with its admin routes open. `ringkv up` keeps one token for all its
 * nodes in the ring's directory; the CLI finds it there (docs/security.md "Admin token").
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KvError } from '../errors.js';
import { TOKEN_BYTES_MAX, TOKEN_PATTERN } from './bearer.js';

/** File name of a generated admin token inside a data directory. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** Shortest admin token accepted: 16 characters (a generated one has 43). */
export const ADMIN_TOKEN_CHARS_MIN = 16;

/** Why `token` is not a usable admin token, or undefined when it is. */
export function adminTokenProblem(token: string): string | undefined {
  if (token.length < ADMIN_TOKEN_CHARS_MIN || token.length > TOKEN_BYTES_MAX) return `must be ${ADMIN_TOKEN_CHARS_MIN} to ${TOKEN_BYTES_MAX} characters`;
  if (!TOKEN_PATTERN.test(token)) return 'must be visible ASCII characters without spaces';
  return undefined;
}

/**
 * The token kept in `dir`/admin-token, created (32 random bytes, base64url, mode 0600) when
 * missing. An existing file is tightened to 0600 and must hold a valid token.
 */
export function adminTokenFromDir(dir: string): string {
  const path = join(dir, ADMIN_TOKEN_FILE);
  try {
    if (existsSync(path)) {
      chmodSync(path, 0o600);
      const token = readFileSync(path, 'utf8').trim();
      const problem = adminTokenProblem(token);
      if (problem !== undefined) throw new KvError('KV_ERR_CONFIG', `the admin token in ${path} ${problem}`, { field: 'adminToken' });
      return token;
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const token = randomBytes(32).toString('base64url');
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return token;
  } catch (error) {
    if (error instanceof KvError) throw error;
    throw new KvError('KV_ERR_DATA_DIR', `cannot keep the admin token in ${path}: ${(error as Error).message}`, { dir });
  }
}

/** `given` (the flag), else `RINGKV_ADMIN_TOKEN`, else the token kept in `dir`. */
export function resolveAdminToken(given: string | undefined, dir: string, env: NodeJS.ProcessEnv): string {
  if (given !== undefined && given !== '') return given;
  if (env.RINGKV_ADMIN_TOKEN !== undefined && env.RINGKV_ADMIN_TOKEN !== '') return env.RINGKV_ADMIN_TOKEN;
  return adminTokenFromDir(dir);
}
