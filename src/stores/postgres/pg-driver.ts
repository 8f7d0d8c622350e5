import type { Client, ClientBase, Pool } from "pg";
import { AsmError } from "../../core/errors.js";
import { lazyImport } from "../../utils/lazy-import.js";

/**
 * Everything this store takes from `pg`, loaded on first use: `pg` is an optional peer
 * dependency, so importing the package (or even this store's module) must never require it.
 */
export type PgDriver = typeof import("pg");

/** Loads `pg`; a missing module is `dependency_not_available` with the install command. */
export const loadPg: () => Promise<PgDriver> = lazyImport(() => import("pg"), missingDriver);

/** The error for a `pg` that cannot be loaded. Exported for tests, which cannot uninstall pg. */
export function missingDriver(cause: unknown): AsmError {
  return new AsmError("dependency_not_available", "the PostgreSQL store needs the pg package", {
    cause,
    details: { dependency: "pg" },
    hint: "Install it next to agent-session-manager: npm install pg",
  });
}

/** Where a store connects, for messages: never the password. */
export interface ConnectionTarget {
  host: string;
  port: number;
  database: string;
  schema: string;
}

export function describeTarget({ host, port, database }: ConnectionTarget): string {
  return `${host}:${port}/${database}`;
}

export interface ConnectionSettings {
  connectionString: string;
  schema: string;
  poolSize: number;
  connectionTimeoutMs: number;
}

/** `application_name` of every connection (a `?application_name=` in the connection string wins). */
const APPLICATION_NAME = "agent-session-manager";

/**
 * The pool and the listener's connections share these: bounded connection attempts (pg waits
 * forever by default), TCP keepalive so a vanished server is noticed, and the store's schema
 * as the search path.
 */
function clientConfig(settings: ConnectionSettings) {
  return {
    connectionString: settings.connectionString,
    connectionTimeoutMillis: settings.connectionTimeoutMs,
    keepAlive: true,
    application_name: APPLICATION_NAME,
  };
}

/**
 * The store's pool. Each new connection sets `search_path` to the schema before its first use
 * (pg runs `onConnect` before handing the client out), so the SQL names tables unqualified, as
 * the SQLite store's does, and query code can be shared. `allowExitOnIdle`: idle connections
 * never keep the process alive, as an open SQLite store does not either.
 */
export function createPool(pg: PgDriver, settings: ConnectionSettings): Pool {
  const pool = new pg.Pool({
    ...clientConfig(settings),
    max: settings.poolSize,
    allowExitOnIdle: true,
    onConnect: (client) => setSearchPath(pg, client, settings.schema),
  });
  // An idle connection that breaks (server restart, pg_terminate_backend) is dropped by the pool,
  // which then emits 'error'; unhandled, that event would crash the process. The next query
  // simply opens a new connection, and failures of queries in flight reject those queries.
  pool.on("error", () => {});
  return pool;
}

/** An unconnected client with the pool's settings, for the LISTEN connection. */
export function createClient(pg: PgDriver, settings: ConnectionSettings): Client {
  return new pg.Client(clientConfig(settings));
}

export async function setSearchPath(pg: PgDriver, client: ClientBase, schema: string): Promise<void> {
  await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
}

/** Host, port and database as pg resolves them (connection string, then PG* variables, then defaults). */
export function connectionTarget(pg: PgDriver, settings: ConnectionSettings): ConnectionTarget {
  // Constructing a client parses its settings without connecting.
  const probe = new pg.Client({ connectionString: settings.connectionString });
  return {
    host: probe.host,
    port: probe.port,
    database: probe.database ?? "",
    schema: settings.schema,
  };
}
