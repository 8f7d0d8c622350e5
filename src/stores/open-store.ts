import { resolve } from "node:path";
import { AsmError } from "../core/errors.js";
import type { DurableSessionStore } from "../ports/durable-store.js";
import type { SessionStore } from "../ports/session-store.js";
import type { PostgresStoreOptions } from "./postgres/postgres-store.js";
import type { SqliteStoreOptions } from "./sqlite/sqlite-store.js";

/**
 * A store target, parsed:
 * - a SQLite file: a plain path (`./asm.db`, `/var/lib/asm.db`, `:memory:`), `sqlite:<path>`
 *   (`sqlite:./asm.db`, `sqlite:/abs/asm.db`) or `sqlite:///abs/asm.db` (URL form: empty host,
 *   absolute path). Paths are taken as written (no percent-decoding) and resolved against the
 *   working directory; `sqlite::memory:` is a private in-memory SQLite database.
 * - PostgreSQL: a `postgres://` or `postgresql://` URL; `?schema=name` picks the schema (and is
 *   taken out of the URL: it is not a libpq parameter); other parameters go to pg.
 * - `memory:`: a `MemorySessionStore` (this process only, gone on close).
 */
export type StoreTarget =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; connectionString: string; schema?: string }
  | { kind: "memory" };

/** What `openStore` accepts: the schemes, and plain paths for SQLite. */
export const STORE_SCHEMES = ["sqlite:", "postgres://", "postgresql://", "memory:"] as const;

export interface OpenStoreOptions {
  /**
   * Upgrade an older schema on open (SQLite, PostgreSQL). Default `false`, as the stores': an
   * older schema is `migration_required`, so an upgrade never rewrites a database unasked.
   */
  autoMigrate?: boolean;
  /** Fail the runs a dead process left `running`, on open (SQLite, PostgreSQL). Default `true`. */
  recover?: boolean;
  /**
   * Open only what already holds data, creating nothing: a missing SQLite file (or `memory:`,
   * which never does) is `not_found`, naming the path. For commands that only read. A
   * PostgreSQL database must exist either way; a missing schema in it is still created.
   * Default `false`.
   */
  mustExist?: boolean;
  /**
   * Open an existing store to read it only (the CLI's read commands): implies `mustExist`, and
   * nothing is created, migrated or recovered — a SQLite file or PostgreSQL schema without the
   * store's tables is `not_found`, an older schema `migration_required` whatever `autoMigrate`
   * says. Default `false`.
   */
  readOnly?: boolean;
  /** More SQLite settings. Default: the store's. */
  sqlite?: Pick<SqliteStoreOptions, "busyTimeoutMs">;
  /** More PostgreSQL settings. Default: the store's. */
  postgres?: Pick<PostgresStoreOptions, "poolSize" | "connectionTimeoutMs">;
}

/** A scheme is letters first (RFC 3986); a one-letter one is a Windows drive, so a path. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;

function invalidTarget(message: string, details: Record<string, unknown>, hint?: string): AsmError {
  return new AsmError("validation_error", message, {
    details: { ...details, supported: [...STORE_SCHEMES, "a SQLite file path"] },
    hint:
      hint ??
      `use a SQLite file path, sqlite:<path>, postgres://user@host/db?schema=name or memory: ` +
        `(a file name with a colon: start it with ./)`,
  });
}

function sqliteTarget(rest: string): StoreTarget {
  // `sqlite:///abs` is the URL form; `sqlite://name` would make `name` a host, which SQLite has none of.
  let path = rest;
  if (rest.startsWith("//")) {
    if (!rest.startsWith("///")) {
      throw invalidTarget(
        "a sqlite: URL has no host",
        { scheme: "sqlite:" },
        "use sqlite:relative/path.db, sqlite:/absolute/path.db or sqlite:///absolute/path.db",
      );
    }
    path = rest.slice(2);
  }
  if (path === "") throw invalidTarget("a sqlite: target needs a file path", { scheme: "sqlite:" });
  if (/[?#]/.test(path)) {
    throw invalidTarget(
      "a sqlite: target takes no parameters (? or #)",
      { scheme: "sqlite:" },
      "pass store settings as openStore options; a file name with ? or # can be given as a plain path",
    );
  }
  return { kind: "sqlite", path };
}

function postgresTarget(target: string, scheme: string): StoreTarget {
  // Never echo the target: it may hold a password.
  const malformed = (reason: string): AsmError =>
    invalidTarget(
      `the PostgreSQL URL is malformed: ${reason}`,
      { scheme: `${scheme}:` },
      "use postgres://user:password@host:5432/database?schema=name",
    );
  if (!target.slice(scheme.length + 1).startsWith("//")) throw malformed(`it must start with ${scheme}://`);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw malformed("it cannot be parsed as a URL");
  }
  const schemas = url.searchParams.getAll("schema");
  if (schemas.length > 1) throw malformed("schema is given more than once");
  const [schema] = schemas;
  if (schema === "") throw malformed("schema is empty");
  url.searchParams.delete("schema");
  return { kind: "postgres", connectionString: url.toString(), ...(schema !== undefined ? { schema } : {}) };
}

/**
 * Where `target` points (see `StoreTarget`). Throws `validation_error` naming the supported
 * schemes for an unknown scheme (`pg://`, `mysql://`, `http://`…) or a malformed target: such a
 * target never becomes a file or directory name.
 */
export function parseStoreTarget(target: string): StoreTarget {
  if (typeof target !== "string" || target.trim() === "") {
    throw invalidTarget("a store target must be a non-empty string", {});
  }
  const match = WINDOWS_DRIVE.test(target) ? null : SCHEME.exec(target);
  if (match === null) return { kind: "sqlite", path: target };
  const scheme = (match[1] as string).toLowerCase();
  const rest = target.slice(match[0].length);
  switch (scheme) {
    case "sqlite":
      return sqliteTarget(rest);
    case "postgres":
    case "postgresql":
      return postgresTarget(target, scheme);
    case "memory":
      if (rest !== "")
        throw invalidTarget("memory: takes nothing after the colon", { scheme: "memory:" }, "use memory:");
      return { kind: "memory" };
    default:
      throw invalidTarget(
        `unknown store scheme "${scheme}:"; supported: ${STORE_SCHEMES.join(", ")} or a SQLite file path`,
        {
          scheme: `${scheme}:`,
        },
      );
  }
}

/**
 * Opens the store `target` names (see `StoreTarget`), loading only that backend's module.
 * Throws `validation_error` for a target `parseStoreTarget` refuses, `not_found` with
 * `mustExist` or `readOnly` for a store that does not exist yet, and as the store's own opener does.
 */
export async function openStore(target: string, options: OpenStoreOptions = {}): Promise<SessionStore> {
  const parsed = parseStoreTarget(target);
  if (parsed.kind === "memory") {
    if (options.mustExist || options.readOnly) {
      throw new AsmError("not_found", "memory: holds nothing before it is opened", {
        details: { target: "memory:" },
        hint: "use a SQLite file or a PostgreSQL URL for a store that outlives the process",
      });
    }
    const { MemorySessionStore } = await import("./memory/index.js");
    return new MemorySessionStore();
  }
  return openDurable(parsed, options);
}

/**
 * `openStore` for callers that need cross-session queries and maintenance (`DurableSessionStore`):
 * SQLite or PostgreSQL. `memory:` is a `validation_error`.
 */
export async function openDurableStore(
  target: string,
  options: OpenStoreOptions = {},
): Promise<DurableSessionStore> {
  const parsed = parseStoreTarget(target);
  if (parsed.kind === "memory") {
    throw new AsmError("validation_error", "memory: is not a durable store (no queries, no maintenance)", {
      details: { target: "memory:" },
      hint: "use a SQLite file path, sqlite:<path> or a postgres:// URL",
    });
  }
  return openDurable(parsed, options);
}

async function openDurable(
  target: Exclude<StoreTarget, { kind: "memory" }>,
  options: OpenStoreOptions,
): Promise<DurableSessionStore> {
  const common = {
    ...(options.autoMigrate !== undefined ? { autoMigrate: options.autoMigrate } : {}),
    ...(options.recover !== undefined ? { recover: options.recover } : {}),
    ...(options.readOnly ? { readOnly: true } : {}),
  };
  switch (target.kind) {
    case "sqlite": {
      const { openSqliteStore } = await import("./sqlite/index.js");
      return openSqliteStore({
        ...options.sqlite,
        ...common,
        path: target.path === ":memory:" ? target.path : resolve(target.path),
        ...(options.mustExist ? { mustExist: true } : {}),
      });
    }
    case "postgres": {
      const { openPostgresStore } = await import("./postgres/index.js");
      return openPostgresStore({
        ...options.postgres,
        ...common,
        connectionString: target.connectionString,
        ...(target.schema !== undefined ? { schema: target.schema } : {}),
      });
    }
  }
}
