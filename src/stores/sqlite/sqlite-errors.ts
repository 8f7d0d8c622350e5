import Database from "better-sqlite3";
import { AsmError } from "../../core/errors.js";

export interface ErrorContext {
  /** The database file. */
  path: string;
  busyTimeoutMs: number;
}

/**
 * Turns anything thrown by better-sqlite3 into an `AsmError` with a storage code, so no raw
 * `SqliteError` leaves the store. AsmErrors (ours, thrown inside transactions) pass through.
 */
export function toStorageError(error: unknown, context: ErrorContext): AsmError {
  if (AsmError.is(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof Database.SqliteError)) {
    return new AsmError("storage_error", `SQLite failed: ${message}`, {
      cause: error,
      details: { path: context.path },
    });
  }
  const sqliteCode = error.code;
  const details = { path: context.path, sqliteCode };
  // Extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_CORRUPT_INDEX, …) carry their primary code as a prefix.
  if (sqliteCode.startsWith("SQLITE_BUSY") || sqliteCode.startsWith("SQLITE_LOCKED")) {
    return new AsmError("storage_busy", `database ${context.path} is locked: ${message}`, {
      cause: error,
      details: { ...details, busyTimeoutMs: context.busyTimeoutMs },
      hint:
        `Another connection held the write lock for more than busyTimeoutMs (${context.busyTimeoutMs} ms). ` +
        "Retry, or raise busyTimeoutMs.",
    });
  }
  if (sqliteCode === "SQLITE_NOTADB" || sqliteCode.startsWith("SQLITE_CORRUPT")) {
    return new AsmError("storage_corrupt", `${context.path} is not a usable SQLite database: ${message}`, {
      cause: error,
      details,
      hint:
        `Check that ${context.path} is the store's database; ` +
        "restore it from a backup, or move it away to start a new one.",
    });
  }
  if (
    sqliteCode.startsWith("SQLITE_CANTOPEN") ||
    sqliteCode.startsWith("SQLITE_READONLY") ||
    sqliteCode === "SQLITE_PERM" ||
    sqliteCode === "SQLITE_AUTH"
  ) {
    return new AsmError("storage_connection_failed", `cannot open ${context.path} for writing: ${message}`, {
      cause: error,
      details,
      hint: `Check that ${context.path} is a file (not a directory) that this process may read and write.`,
    });
  }
  return new AsmError("storage_error", `SQLite failed on ${context.path}: ${message}`, {
    cause: error,
    details,
  });
}
