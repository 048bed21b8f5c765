/**
 * Schema migrations of the node database, applied in order inside one transaction at open.
 * The schema version is SQLite's `user_version`. A database from a newer ringkv (higher
 * version than we know) is refused rather than guessed at. Append migrations; never edit one
 * that has shipped.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'objects, hints and node metadata',
    sql: `
      -- One row per key: the encoded VersionedObject (core/object-codec.ts). deleted = 1 when
      -- every sibling is a tombstone, so the tombstone reaper can find them without decoding.
      CREATE TABLE objects (
        key TEXT PRIMARY KEY,
        object BLOB NOT NULL,
        deleted INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX objects_deleted ON objects (deleted) WHERE deleted = 1;

      -- Hinted handoff (Dynamo §4.6): replicas held for an unreachable owner, kept durably
      -- until delivered. Written by the healing work; the table exists from the start.
      CREATE TABLE hints (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        key TEXT NOT NULL,
        object BLOB NOT NULL,
        created_ms INTEGER NOT NULL
      );
      CREATE INDEX hints_owner ON hints (owner, id);

      -- Node identity and other small facts (for example node_id, checked at every open).
      CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'hints: one row per (owner, key), a sequence number for safe deletion, and the row size',
    sql: `
      CREATE UNIQUE INDEX hints_owner_key ON hints (owner, key);
      ALTER TABLE hints ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE hints ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 3,
    description: 'objects: ring position and digest of each key, for anti-entropy',
    sql: `
      -- pos: the key's ring position (48 bits); digest: md5(key, object) (storage/digest-tree.ts).
      -- Rows written before this version get both at the next open (SqliteStore.backfill).
      ALTER TABLE objects ADD COLUMN pos INTEGER;
      ALTER TABLE objects ADD COLUMN digest BLOB;
      CREATE INDEX objects_pos ON objects (pos, digest);
    `,
  },
  {
    version: 4,
    description: 'objects: from when the whole object is dead (tombstones, expired TTLs), for the reaper',
    sql: `
      -- dead_after_ms: set when every sibling is a tombstone or has an expiry (core/versioned.ts
      -- deadAfterMs); NULL while any sibling lives without one. Rows from before this version
      -- get it at the next open (SqliteStore.backfill).
      ALTER TABLE objects ADD COLUMN dead_after_ms INTEGER;
      UPDATE objects SET pos = NULL WHERE deleted = 1;
      CREATE INDEX objects_dead_after ON objects (dead_after_ms) WHERE dead_after_ms IS NOT NULL;
      -- The reaper asks whether any hint for a key is pending, whatever its owner.
      CREATE INDEX hints_key ON hints (key);
    `,
  },
  {
    version: 5,
    description: 'objects: the actor this node writes the key under while it keeps the row (core/actor.ts)',
    sql: `
      -- actor: local only, never replicated; it lives and dies with the row. NULL (rows from
      -- before this version, rows created by replica writes) means the next write this node
      -- coordinates for the key takes a fresh actor.
      ALTER TABLE objects ADD COLUMN actor TEXT;
    `,
  },
  {
    version: 6,
    description: 'paxos: the acceptor record of each compare-and-set key (docs/cas.md)',
    sql: `
      -- record: consensus/codec.ts encodeAcceptorRecord (promised ballot, accepted and committed
      -- states with their recent request ids, the layout fence). Kept apart from objects: a
      -- key's Paxos register and its causal object are different things (docs/cas.md).
      CREATE TABLE paxos (
        key TEXT PRIMARY KEY,
        record BLOB NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    description: 'objects: the position index without the digest, so an overwrite leaves it alone; the unused tombstone index dropped',
    sql: `
      -- A key's position never changes, its digest changes with every write: with the digest in
      -- the index every overwrite deleted and inserted an index entry (a second dirtied page per
      -- write). Range reads (anti-entropy) now fetch the digest from the row.
      DROP INDEX objects_pos;
      CREATE INDEX objects_pos ON objects (pos);
      -- No query reads this one (the reaper finds dead rows by dead_after_ms, schema 4), and
      -- every write that made or unmade a tombstone updated it.
      DROP INDEX IF EXISTS objects_deleted;
    `,
  },
];

export const schemaVersion = migrations.at(-1)!.version;

/** Brings `db` to `schemaVersion`; returns the versions applied. Throws on a newer database. */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = list.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this ringkv supports (${latest})`);
  }
  const applied: number[] = [];
  db.transaction(() => {
    for (const migration of list) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
      applied.push(migration.version);
    }
  })();
  return applied;
}
