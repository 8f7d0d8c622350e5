import type { Database as SqliteDatabase } from "better-sqlite3";
import {
  type Compilable,
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type QueryResult,
  SqliteDialect,
} from "kysely";
import type { AsmError } from "../../core/errors.js";
import { postgresFlavor, type SqlFlavor, sqliteFlavor } from "./flavor.js";
import type { AsmDatabase } from "./schema.js";

/** The results of `transact`'s statements, typed statement by statement. */
export type ResultsOf<Q extends readonly Compilable<unknown>[]> = {
  -readonly [K in keyof Q]: QueryResult<Q[K] extends Compilable<infer O> ? O : never>;
};

/**
 * One store's database as the shared query code sees it: a kysely instance on the store's own
 * connection(s), the database's flavor, and the store's hooks.
 */
export interface SqlBackend {
  readonly db: Kysely<AsmDatabase>;
  readonly flavor: SqlFlavor;
  /**
   * Runs the statements in order in one transaction — all or none — and answers their results.
   * `read` gives the statements one consistent snapshot; `write` takes the write lock first.
   * Statements are fixed up front (none depends on an earlier one's rows): on SQLite that lets the
   * whole transaction run synchronously (see `sqliteBackend`).
   */
  transact<const Q extends readonly Compilable<unknown>[]>(
    statements: Q,
    mode: "read" | "write",
  ): Promise<ResultsOf<Q>>;
  /** Throws the store's "closed" error once it is closed. */
  assertOpen(): void;
  /** The store's translation of a driver error into an `AsmError` with a storage code. */
  toError(error: unknown): AsmError;
}

/** What a store lends the backend built on its connection. */
export interface BackendHooks {
  /** Throws the store's "closed" error once it is closed. */
  assertOpen(): void;
  /** The store's translation of a driver error into an `AsmError` with a storage code. */
  toError(error: unknown): AsmError;
}

/**
 * A backend on the SQLite store's own better-sqlite3 connection (which also makes it work for
 * `:memory:` databases, which no second connection could see).
 *
 * Reads go through kysely. Transactions do not: kysely would `BEGIN` and then await between
 * statements, and the store's own writes — synchronous `db.transaction()` calls on the same
 * connection — could run in those gaps and silently join (and roll back with) our transaction.
 * So `transact` compiles the statements with kysely and runs them in one synchronous
 * better-sqlite3 transaction, which nothing can interleave with.
 */
export function sqliteBackend(database: SqliteDatabase, hooks: BackendHooks): SqlBackend {
  const db = new Kysely<AsmDatabase>({ dialect: new SqliteDialect({ database }) });
  return {
    db,
    flavor: sqliteFlavor,
    async transact<const Q extends readonly Compilable<unknown>[]>(statements: Q, mode: "read" | "write") {
      const compiled = statements.map((statement) => statement.compile());
      const all = database.transaction(() =>
        compiled.map(({ sql, parameters }): QueryResult<unknown> => {
          const statement = database.prepare(sql);
          if (statement.reader) return { rows: statement.all(...parameters) };
          return { rows: [], numAffectedRows: BigInt(statement.run(...parameters).changes) };
        }),
      );
      const results = mode === "write" ? all.immediate() : all.deferred();
      // The tuple type cannot be followed through `map`; each result belongs to its statement.
      return results as ResultsOf<Q>;
    },
    assertOpen: hooks.assertOpen,
    toError: hooks.toError,
  };
}

/**
 * A backend on the PostgreSQL store's pg pool; each transaction gets a connection of its own.
 * Table names are unqualified: the store's connections have its schema as their `search_path`.
 */
export function postgresBackend(pool: PostgresPool, hooks: BackendHooks): SqlBackend {
  const db = new Kysely<AsmDatabase>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    flavor: postgresFlavor,
    async transact<const Q extends readonly Compilable<unknown>[]>(statements: Q, mode: "read" | "write") {
      // Repeatable read gives a read the one snapshot; writes keep the default READ COMMITTED,
      // which the pruning statement is written for.
      const transaction =
        mode === "read"
          ? db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only")
          : db.transaction();
      const results = await transaction.execute(async (trx) => {
        const done: QueryResult<unknown>[] = [];
        for (const statement of statements) done.push(await trx.executeQuery(statement.compile()));
        return done;
      });
      // As above: the tuple type cannot be followed through the loop.
      return results as ResultsOf<Q>;
    },
    assertOpen: hooks.assertOpen,
    toError: hooks.toError,
  };
}
