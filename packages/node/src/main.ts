/**
 * Runs one node as a process: builds the config, handles the cluster secret, starts the node,
 * and stops it gracefully on SIGTERM or SIGINT. Start-up failures (bad config, unusable data
 * directory, corrupt database) print one clear line to stderr and exit with status 2; a
 * crash after start-up exits with status 1.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KvError } from './errors.js';
import { defaultConfig, validateConfig, type NodeConfig } from './config.js';
import { startNode, type RingkvNode } from './node.js';
import { resolveAdminToken } from './access/admin-token.js';
import { readPrivateFile } from './access/private-file.js';
import { Keyring, parseSecretFile } from './security/keyring.js';

const SECRET_FILE = 'cluster-secret';

/**
 * The cluster secret when none is configured: a random one kept in the data directory (mode
 * 0600), so a single node needs no setup and keeps accepting its own contexts across restarts.
 * Nodes of one ring must share a secret: `ringkv up` passes one to all of them.
 */
function secretFromDataDir(dataDir: string): string {
  const path = join(dataDir, SECRET_FILE);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return secret;
}

export function resolveSecret(overrides: Partial<NodeConfig>, env: NodeJS.ProcessEnv): string {
  if (overrides.secret !== undefined && overrides.secret !== '') return overrides.secret;
  if (env.RINGKV_SECRET !== undefined && env.RINGKV_SECRET !== '') return env.RINGKV_SECRET;
  try {
    return secretFromDataDir(overrides.dataDir ?? defaultConfig.dataDir);
  } catch (error) {
    throw new KvError('KV_ERR_DATA_DIR', `cannot keep the cluster secret in the data directory: ${(error as Error).message}`, {
      dir: overrides.dataDir ?? defaultConfig.dataDir,
    });
  }
}

function startupFailure(error: unknown): never {
  if (error instanceof KvError) {
    process.stderr.write(`ringkv: cannot start: ${error.code}: ${error.message}\n`);
    process.exit(2);
  }
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    process.stderr.write(`ringkv: cannot start: cannot listen: ${(error as Error).message}\n`);
    process.exit(2);
  }
  throw error;
}

/** Reads a secret file (security/keyring.ts: one secret per line, the first is primary). */
export function readSecretFile(path: string): string[] {
  // Kept out of `ps` and shell history; a world-readable file is refused (readPrivateFile).
  return parseSecretFile(readPrivateFile(path, 'secretFile').toString('utf8'));
}

export interface ProcessOptions {
  /**
   * A secret file (`--secret-file`): the keyring comes from it, its first line is the primary
   * secret, and SIGHUP reloads it (the rotation procedure of docs/security.md).
   */
  readonly secretFile?: string;
}

/**
 * The last-resort policy: every socket callback that takes network input catches what it
 * throws (the gossip driver's guard, the HTTP app's error handler, the transport's error
 * mapping), so an exception that still reaches the top is a bug, and the process state it
 * leaves cannot be trusted. It is logged on one line and the process exits 1 for its
 * supervisor to restart it; acknowledged writes are durable (docs/storage.md), and a
 * restarted node rejoins at once.
 */
function exitOnUncaught(): void {
  process.on('uncaughtException', (error, origin) => {
    process.stderr.write(`ringkv: fatal: ${origin}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

/**
 * SIGHUP: reloads the secret file (--secret-file: the rotation procedure of docs/security.md)
 * and, once the node runs, --auth-file; a bad file keeps the old contents and says so.
 */
function onHangup(keyring: Keyring | undefined, secretFile: string | undefined, node: RingkvNode | undefined): void {
  if (keyring !== undefined && secretFile !== undefined) {
    try {
      keyring.replace(readSecretFile(secretFile));
      process.stderr.write(`ringkv: SIGHUP: secrets reloaded from ${secretFile} (fingerprints ${keyring.fingerprints().join(', ')}; the first signs)\n`);
    } catch (error) {
      process.stderr.write(`ringkv: SIGHUP: secrets NOT reloaded, the old ones stay: ${(error as Error).message}\n`);
    }
  }
  node?.reloadAuthFile();
}

/** Starts a node in this process and wires the signals; resolves once it is serving. */
export async function runNodeProcess(overrides: Partial<NodeConfig>, env: NodeJS.ProcessEnv = process.env, options: ProcessOptions = {}): Promise<RingkvNode> {
  let node: RingkvNode;
  let started: RingkvNode | undefined;
  // Everything this process creates (data directory, database, token and secret files) is
  // private to its user: 0700 directories, 0600 files (issue #18).
  process.umask(0o077);
  let keyring: Keyring | undefined;
  const secretFile = options.secretFile ?? (overrides.secretFile !== undefined && overrides.secretFile !== '' ? overrides.secretFile : undefined);
  try {
    // Validate everything but the secrets first, so a bad config leaves no file behind.
    validateConfig({ ...overrides, secret: 'placeholder-secret', adminToken: 'placeholder-admin-token' });
    const dataDir = overrides.dataDir ?? defaultConfig.dataDir;
    // --secret-file: the keyring (one secret per line, the first signs), reloaded on SIGHUP.
    const secrets = secretFile === undefined ? undefined : readSecretFile(secretFile);
    keyring = secrets === undefined ? undefined : new Keyring(secrets);
    const config = validateConfig({ ...overrides, secret: secrets?.[0] ?? resolveSecret(overrides, env), adminToken: resolveAdminToken(overrides.adminToken, dataDir, env) });
    // SIGHUP's default action ends the process: the handler is in place before the node can log
    // that it started (a reload sent right after start-up once killed it).
    process.on('SIGHUP', () => onHangup(keyring, secretFile, started));
    node = await startNode(config, keyring === undefined ? {} : { keyring });
    started = node;
  } catch (error) {
    startupFailure(error);
  }
  exitOnUncaught();
  const stop = (signal: string) => {
    process.stderr.write(`ringkv: ${signal}: stopping node ${node.config.nodeId}\n`);
    node.drain().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`ringkv: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  // A node that left the ring (POST /admin/leave) stops once its data is handed off.
  void node.left.then(() => {
    process.stderr.write(`ringkv: node ${node.config.nodeId} left the ring and handed off its data\n`);
    process.exit(0);
  });
  // A node an operator removed stops for good: status 2, so a supervisor does not loop on it
  // (it would refuse to start on this data directory anyway).
  void node.removed.then(() => {
    process.stderr.write(`ringkv: node ${node.config.nodeId} was removed from the ring; it stopped and will not start on this data directory again\n`);
    process.exit(2);
  });
  // A file-size limit (ulimit -f) makes a write fail with EFBIG, a coded storage error the node
  // survives (storage/store-life.ts); the SIGXFSZ that comes with it must not end the process.
  // Node ignores it, but a preloaded module that re-raises signals (signal-exit) would not.
  process.on('SIGXFSZ', () => undefined);
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return node;
}
