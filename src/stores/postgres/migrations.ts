import { createHash } from "node:crypto";
import type { ClientBase } from "pg";
import {
  checkMigrationList,
  type Migration,
  pendingMigrations,
  type SchemaState,
} from "../shared/schema-versions.js";

export type { Migration };

/**
 * The PostgreSQL schema, one entry per version; which versions a schema has is recorded in its
 * `asm_schema_migrations` table (one row per applied version). Adding a schema change means
 * appending one entry here. Versions match the SQLite store's step for step.
 *
 * Tables and columns are named exactly as in the SQLite store (`../sqlite/migrations.ts`), so the
 * query code both stores share runs on either; the types are PostgreSQL's own:
 * - ids and enum-like values are TEXT; JSON is JSONB;
 * - timestamps are TIMESTAMPTZ (written as ISO 8601 strings, read back by pg as Dates; the store
 *   returns them in `toISOString()` form, milliseconds);
 * - sequences and counters are BIGINT (pg returns them as strings; the store converts);
 * - `cost_usd` is DOUBLE PRECISION.
 * The SQL names tables unqualified: every connection's `search_path` is the store's schema.
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
        metadata JSONB NOT NULL,
        context JSONB NOT NULL,
        tags JSONB NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        deleted_at TIMESTAMPTZ,
        -- The highest sequence handed out; appends reserve ranges by bumping it, and the row lock
        -- that UPDATE takes is what serializes the session's writers across processes.
        last_sequence BIGINT NOT NULL DEFAULT 0
      );
      CREATE INDEX sessions_by_created_at ON sessions (created_at);
      CREATE INDEX sessions_by_status ON sessions (status, created_at);
      CREATE INDEX sessions_by_agent ON sessions (agent_id, created_at);

      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        input JSONB NOT NULL,
        output JSONB,
        error JSONB,
        metadata JSONB NOT NULL,
        turn_count INTEGER NOT NULL,
        token_usage JSONB NOT NULL,
        cost_usd DOUBLE PRECISION,
        provider TEXT,
        provider_metadata JSONB NOT NULL,
        -- {hostname, pid} of the executing process; recovery fails runs whose owner died.
        owner JSONB,
        created_at TIMESTAMPTZ NOT NULL,
        started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ
      );
      CREATE INDEX runs_by_session ON runs (session_id, created_at);
      CREATE INDEX runs_by_status ON runs (status);

      CREATE TABLE events (
        -- A primary key (SQLite's table has UNIQUE (id) and its rowid): logical replication and
        -- most tooling want one.
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        sequence BIGINT NOT NULL,
        type TEXT NOT NULL,
        run_id TEXT,
        "timestamp" TIMESTAMPTZ NOT NULL,
        provider TEXT,
        data JSONB NOT NULL,
        metadata JSONB NOT NULL,
        UNIQUE (session_id, sequence)
      );
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
      ALTER TABLE sessions ADD COLUMN pruned_events BIGINT NOT NULL DEFAULT 0;
    `,
  },
];

/** The table recording applied versions, inside the store's schema. */
export const MIGRATIONS_TABLE = "asm_schema_migrations";

export interface MigrateOptions {
  schema: string;
  autoMigrate: boolean;
  /** Create and migrate nothing: a schema not at the latest version is refused (see `pendingMigrations`). */
  readOnly: boolean;
  /** `host:port/database`, for messages. */
  where: string;
  /** Quotes an identifier (pg's `escapeIdentifier`). */
  quote(identifier: string): string;
}

/**
 * Brings `schema` to the latest version of `migrations`, or refuses (the rules of
 * `pendingMigrations`, as in the SQLite store): a missing or empty schema is created and
 * initialized silently; an older one is `migration_required` unless `autoMigrate`; a newer one
 * is `migration_required` with `details.direction: "downgrade"`.
 *
 * A schema already at the latest version costs two catalog reads and takes no lock, so a
 * read-only role can open it. Otherwise everything — creating the schema, every pending step,
 * their rows in `asm_schema_migrations` — happens in one transaction holding a transaction-level
 * advisory lock derived from the schema name, and the decision is taken again once the lock is
 * held: processes that start together on a fresh schema migrate it exactly once, the others
 * wait for that commit and find nothing left to do. DDL is transactional in PostgreSQL, so a
 * failing step leaves the schema as it was.
 */
export async function migrate(
  client: ClientBase,
  migrations: readonly Migration[],
  options: MigrateOptions,
): Promise<void> {
  checkMigrationList(migrations);
  const { schema, quote } = options;
  const version = await schemaVersion(client, schema, quote);
  if (version === migrations.length) return;
  if (options.readOnly) {
    // Throws: read-only storage passes only at the latest version. No lock: nothing will change.
    const exists = await schemaExists(client, schema);
    pendingMigrations(migrations, {
      ...schemaState(options),
      current: version,
      empty: !exists || (await schemaIsEmpty(client, schema)),
      readOnly: true,
    });
  }

  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [migrationLockKey(schema)]);
    const exists = await schemaExists(client, schema);
    const pending = pendingMigrations(migrations, {
      ...schemaState(options),
      current: exists ? await schemaVersion(client, schema, quote) : 0,
      empty: !exists || (await schemaIsEmpty(client, schema)),
    });
    if (pending.length > 0) {
      if (!exists) await client.query(`CREATE SCHEMA ${quote(schema)}`);
      // The connection's search_path named the schema before it existed; set it again so the
      // unqualified names below resolve to it for certain.
      await client.query(`SET LOCAL search_path TO ${quote(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
           version INTEGER PRIMARY KEY,
           description TEXT NOT NULL,
           applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )`,
      );
      for (const migration of pending) {
        await client.query(migration.up);
        await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, description) VALUES ($1, $2)`, [
          migration.version,
          migration.description,
        ]);
      }
    }
    await client.query("COMMIT");
  } catch (error) {
    // A broken connection fails the ROLLBACK too; the server rolls back on disconnect anyway.
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** What `pendingMigrations` needs besides the schema's version and emptiness. */
function schemaState(options: MigrateOptions): Omit<SchemaState, "current" | "empty"> {
  return {
    autoMigrate: options.autoMigrate,
    subject: `schema ${options.schema} on ${options.where}`,
    details: { schema: options.schema },
    upgradeHint: "Back up the database, then open the store with autoMigrate: true to upgrade the schema.",
    downgradeHint:
      "Upgrade agent-session-manager to a release that knows this schema, or use another schema.",
  };
}

/**
 * The advisory lock key of `schema`'s migrations: the first 8 bytes of a SHA-256, so every
 * process (and release) derives the same key, and different schemas of one database migrate
 * independently. Advisory locks are database-wide, so this works before the schema exists.
 */
export function migrationLockKey(schema: string): string {
  const digest = createHash("sha256").update(`agent-session-manager:migrations:${schema}`).digest();
  return digest.readBigInt64BE(0).toString();
}

async function schemaVersion(
  client: ClientBase,
  schema: string,
  quote: (identifier: string) => string,
): Promise<number> {
  const table = `${quote(schema)}.${MIGRATIONS_TABLE}`;
  const { rows } = await client.query<{ found: string | null }>("SELECT to_regclass($1)::text AS found", [
    table,
  ]);
  if (rows[0]?.found == null) return 0;
  const version = await client.query<{ version: number }>(
    `SELECT coalesce(max(version), 0) AS version FROM ${table}`,
  );
  return version.rows[0]?.version ?? 0;
}

async function schemaExists(client: ClientBase, schema: string): Promise<boolean> {
  const { rows } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
  return rows.length > 0;
}

/** No tables, views, sequences or other relations: nobody's data is in it yet. */
async function schemaIsEmpty(client: ClientBase, schema: string): Promise<boolean> {
  const { rows } = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 LIMIT 1`,
    [schema],
  );
  return rows.length === 0;
}
