/**
 * Where the CLI finds its credentials (docs/security.md):
 *
 * - admin commands (leave, remove, transfers, anti-entropy): `--token`, else
 *   `RINGKV_ADMIN_TOKEN`, else the `admin-token` file in `--dir` (a ring's directory from
 *   `ringkv up`, or one node's data directory), else `./data/admin-token` (where `ringkv up`
 *   keeps it by default), so a local ring needs no flags;
 * - key commands (get, put, del): `--token`, else `RINGKV_TOKEN` (a client token of the nodes'
 *   --auth-file), else `RINGKV_ADMIN_TOKEN`;
 * - `status` (open unless the nodes use --auth-file): like key commands, then like admin ones.
 *
 * `--cacert F` (else `RINGKV_CACERT`) is the CA that https:// nodes' certificates chain to.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Agent } from 'undici';
import { ADMIN_TOKEN_FILE } from '@ringkv/node';
import { UsageError } from './args.js';

/** The options every command that talks to a node takes. */
export const credentialOptions = {
  token: { type: 'string' },
  cacert: { type: 'string' },
  dir: { type: 'string' },
} as const;

type Values = Record<string, string | undefined>;

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

function tokenFromDir(dir: string): string | undefined {
  const path = join(resolve(dir), ADMIN_TOKEN_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

/** The admin token for admin commands, or undefined when none is found (the node will answer 401). */
export function adminToken(values: Values, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return nonEmpty(values.token) ?? nonEmpty(env.RINGKV_ADMIN_TOKEN) ?? tokenFromDir(values.dir ?? 'data');
}

/** The token for key commands: a client token, else the admin token from the environment. */
export function clientToken(values: Values, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return nonEmpty(values.token) ?? nonEmpty(env.RINGKV_TOKEN) ?? nonEmpty(env.RINGKV_ADMIN_TOKEN);
}

/** For read-only admin routes: any token the CLI can find. */
export function anyToken(values: Values, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return clientToken(values, env) ?? adminToken(values, env);
}

/** The CA bundle from --cacert or RINGKV_CACERT, or undefined for the system's CAs. */
export function caCert(values: Values, env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const path = nonEmpty(values.cacert) ?? nonEmpty(env.RINGKV_CACERT);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`--cacert ${path}: ${(error as Error).message}`);
  }
}

/** An undici dispatcher trusting `ca`, or undefined for the default one. */
export function dispatcherFor(ca: Buffer | undefined): Agent | undefined {
  return ca === undefined ? undefined : new Agent({ connect: { ca } });
}

/** The Authorization header for `token`, or none. */
export function authHeader(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
