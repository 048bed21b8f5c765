/** Public API of the node package: start a node in-process, or as a process. */
export { startNode, assemble, VERSION, type RingkvNode, type NodeParts } from './node.js';
export { runNodeProcess, resolveSecret } from './main.js';
export { resolveAdminToken, adminTokenFromDir, ADMIN_TOKEN_FILE } from './access/admin-token.js';
export { parseAuthFile, type TokenTable, type Operation } from './access/client-tokens.js';
export { defaultConfig, localConfig, testConfig, validateConfig, type NodeConfig } from './config.js';
export { KvError, isKvError } from './errors.js';
export { createApp, type AppDeps } from './http/app.js';
export type { Store, StoreStats } from './storage/store.js';
export { SqliteStore, DATABASE_FILE } from './storage/sqlite-store.js';
export { MemoryStore } from './storage/memory-store.js';
export { migrate, migrations, schemaVersion } from './storage/migrations.js';
export { checkSnapshotFile, type SnapshotFile, type SnapshotInfo } from './storage/snapshot.js';
export { restoreSnapshot, snapshotAgeMaxMs, type RestoreOptions, type RestoreResult } from './storage/restore.js';
export { signRequest, signDeclared, signHello, checkRequest, checkBody, AUTH_HEADERS, HELLO_PATH, type Receiver } from './transport/auth.js';
export { helloNode, internalHeaders } from './transport/internal-client.js';
export { Keyring, deriveKeys, parseSecretFile, KEY_LABELS } from './security/keyring.js';
export type { StaticPeer } from './membership/static-membership.js';
export type { Member, MemberStatus } from './membership/membership.js';
