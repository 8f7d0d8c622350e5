import type { Database } from "better-sqlite3";
import {
  checkMigrationList,
  type Migration,
  pendingMigrations,
  type SchemaState,
} from "../shared/schema-versions.js";

export type { Migration };

/**
 * The SQLite schema, one entry per version; the database's current version is kept in
 * `PRAGMA user_version`. Adding a schema change means appending one entry here.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "sessions, runs and the per-session event log",
    up: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        status TEXT NOT NULL,
        parent_session_id TEXT,
        metadata TEXT NOT NULL,
        context TEXT NOT NULL,
        tags TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT,
        -- The highest sequence handed out; appends reserve ranges by bumping it.
        last_sequence INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX sessions_by_created_at ON sessions (created_at);
      CREATE INDEX sessions_by_status ON sessions (status, created_at);
      CREATE INDEX sessions_by_agent ON sessions (agent_id, created_at);

      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        metadata TEXT NOT NULL,
        turn_count INTEGER NOT NULL,
        token_usage TEXT NOT NULL,
        cost_usd REAL,
        provider TEXT,
        provider_metadata TEXT NOT NULL,
        -- JSON {hostname, pid} of the executing process; recovery fails runs whose owner died.
        owner TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        ended_at TEXT
      ) STRICT;
      CREATE INDEX runs_by_session ON runs (session_id, created_at);
      CREATE INDEX runs_by_status ON runs (status);

      CREATE TABLE events (
        id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        sequence INTEGER NOT NULL,
        type TEXT NOT NULL,
        run_id TEXT,
        timestamp TEXT NOT NULL,
        provider TEXT,
        data TEXT NOT NULL,
        metadata TEXT NOT NULL,
        UNIQUE (session_id, sequence)
      ) STRICT;
      -- Ending in sequence, so filtered pages come out of the index already in order.
      CREATE INDEX events_by_run ON events (session_id, run_id, sequence);
      CREATE INDEX events_by_type ON events (session_id, type, sequence);
    `,
  },
  {
    version: 2,
    description: "count of each session's events deleted by retention pruning",
    up: `
      -- Pruning adds the events it deletes here, so the health check can tell pruned sequences
      -- from lost ones: count(events) + pruned_events = the highest sequence.
      ALTER TABLE sessions ADD COLUMN pruned_events INTEGER NOT NULL DEFAULT 0;
    `,
  },
];

export interface MigrateOptions {
  autoMigrate: boolean;
  /** The database file, for messages. */
  path: string;
}

/**
 * Brings the schema to the latest version of `migrations`, or refuses:
 * - a new, empty database (version 0, no tables) is initialized silently;
 * - an older one is `migration_required` unless `autoMigrate`, which migrates in one
 *   IMMEDIATE transaction — all steps or none;
 * - a newer one (written by a later release) is `migration_required` with
 *   `details.direction: "downgrade"`: this code cannot read it.
 */
export function migrate(db: Database, migrations: readonly Migration[], options: MigrateOptions): void {
  checkMigrationList(migrations);
  const target = migrations.length;
  if (userVersion(db) === target) return;

  // Decided again under the write lock: another process may be migrating the same file right now.
  db.transaction(() => {
    const pending = pendingMigrations(migrations, schemaState(db, options));
    if (pending.length === 0) return;
    for (const migration of pending) db.exec(migration.up);
    // Not a bound parameter: PRAGMA takes none. `target` is a number we computed.
    db.pragma(`user_version = ${target}`);
  }).immediate();
}

/**
 * For a reader's open: passes only a database at the latest version of `migrations`; otherwise
 * throws as `pendingMigrations` does for read-only storage (`not_found` for one without tables,
 * `migration_required` for another version). Writes nothing.
 */
export function checkSchema(db: Database, migrations: readonly Migration[], path: string): void {
  checkMigrationList(migrations);
  if (userVersion(db) === migrations.length) return;
  pendingMigrations(migrations, { ...schemaState(db, { autoMigrate: false, path }), readOnly: true });
}

function schemaState(db: Database, options: MigrateOptions): SchemaState {
  return {
    current: userVersion(db),
    empty: isEmpty(db),
    autoMigrate: options.autoMigrate,
    subject: `database ${options.path}`,
    details: { path: options.path },
    upgradeHint: "Back up the file, then open the store with autoMigrate: true to upgrade it.",
    downgradeHint:
      "Upgrade agent-session-manager to a release that knows this schema, or use another database file.",
  };
}

function userVersion(db: Database): number {
  return Number(db.pragma("user_version", { simple: true }));
}

function isEmpty(db: Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' LIMIT 1").get() === undefined;
}
