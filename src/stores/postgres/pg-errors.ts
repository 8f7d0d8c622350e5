import { AsmError, type ErrorCode } from "../../core/errors.js";
import { type ConnectionTarget, describeTarget } from "./pg-driver.js";

/** The primary key of `events`: a duplicate there is an idempotent retry racing its original. */
export const EVENTS_ID_CONSTRAINT = "events_pkey";
const EVENTS_SEQUENCE_CONSTRAINT = "events_session_id_sequence_key";

/** What pg's `DatabaseError` carries that the mapping reads (checked by shape: pg is loaded lazily). */
interface ServerError {
  code: string;
  message: string;
  detail?: string;
  constraint?: string;
  table?: string;
}

/** A SQLSTATE error from the server, as opposed to a socket or client-side error. */
export function serverError(error: unknown): ServerError | undefined {
  if (!(error instanceof Error) || !("severity" in error) || !("code" in error)) return undefined;
  const { code } = error;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? (error as ServerError) : undefined;
}

/** Whether `error` is the unique violation of a concurrent append of the same event id. */
export function isDuplicateEventId(error: unknown): boolean {
  const server = serverError(error);
  return server?.code === "23505" && server.constraint === EVENTS_ID_CONSTRAINT;
}

/** Socket-level failures: the server is unreachable, or the connection broke. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENOENT", // a Unix socket path that does not exist
]);

/**
 * pg's own connection errors have no code, only these messages (pg 8: "Connection terminated
 * unexpectedly", "Connection terminated due to connection timeout", "timeout exceeded when trying
 * to connect", "Client has encountered a connection error and is not queryable", …).
 */
const CONNECTION_MESSAGE = /connection terminated|timeout exceeded when trying to connect|not queryable/i;

/**
 * Turns anything thrown by pg into an `AsmError` with a storage code, so no raw pg error leaves
 * the store. AsmErrors (ours, thrown inside transactions) pass through.
 */
export function toStorageError(error: unknown, target: ConnectionTarget): AsmError {
  if (AsmError.is(error)) return error;
  const where = describeTarget(target);
  const message = describeError(error);
  const details = { host: target.host, port: target.port, database: target.database, schema: target.schema };
  const server = serverError(error);
  if (server === undefined) {
    if (isConnectionFailure(error)) return connectionFailed(error, message, details, target);
    return new AsmError("storage_error", `PostgreSQL at ${where} failed: ${message}`, {
      cause: error,
      details,
    });
  }
  const withCode = { ...details, sqlState: server.code, constraint: server.constraint, table: server.table };
  const fail = (code: ErrorCode, text: string, hint?: string): AsmError =>
    new AsmError(code, text, { cause: error, details: withCode, ...(hint === undefined ? {} : { hint }) });
  const sqlClass = server.code.slice(0, 2);
  switch (server.code) {
    case "40001": // serialization_failure
    case "40P01": // deadlock_detected
    case "55P03": // lock_not_available
      return fail(
        "storage_busy",
        `PostgreSQL at ${where} gave up on a conflicting transaction: ${message}`,
        "A concurrent writer held the same rows; retry the operation.",
      );
    case "23505": // unique_violation
      if (server.constraint === EVENTS_SEQUENCE_CONSTRAINT) {
        return fail(
          "storage_corrupt",
          `an event sequence is taken twice in schema ${target.schema}: ${message}`,
          "sessions.last_sequence is behind the session's events (written outside this store?); " +
            "run a health check and repair the counter.",
        );
      }
      return fail("already_exists", `a row with this key already exists: ${message}`);
    case "23503": {
      // foreign_key_violation: runs and events reference their session, and nothing else.
      const sessionId = /\(session_id\)=\((.*)\)/.exec(server.detail ?? "")?.[1];
      return new AsmError("session_not_found", `session ${sessionId ?? "(unknown)"} not found`, {
        cause: error,
        details: { sessionId },
      });
    }
    case "3F000": // invalid_schema_name
    case "42P01": // undefined_table
      return fail(
        "migration_required",
        `schema ${target.schema} on ${where} has no store tables: ${message}`,
        "Open the store again so it creates its tables (the schema may have been dropped under it), " +
          "and check the schema option.",
      );
    case "22P05": // untranslatable_character: \u0000 in jsonb or text
    case "22021": // character_not_in_repertoire
      return fail(
        "validation_error",
        `PostgreSQL cannot store this value: ${message}`,
        "PostgreSQL text and jsonb cannot hold the NUL character (\\u0000); remove or escape it.",
      );
    case "3D000": // invalid_catalog_name: the database does not exist
    case "28000": // invalid_authorization_specification
    case "28P01": // invalid_password
      return fail(
        "storage_connection_failed",
        `cannot connect to PostgreSQL at ${where}: ${message}`,
        `Check the database name and credentials in the connection string for ${where}.`,
      );
  }
  if (sqlClass === "08" || server.code === "57P01" || server.code === "57P02" || server.code === "57P03") {
    // connection_exception, admin_shutdown, crash_shutdown, cannot_connect_now
    return connectionFailed(error, message, withCode, target);
  }
  if (sqlClass === "53") {
    // insufficient_resources: too many connections, disk full, out of memory
    return fail(
      server.code === "53300" ? "storage_connection_failed" : "storage_error",
      `PostgreSQL at ${where} is out of resources: ${message}`,
      server.code === "53300" ? "Lower poolSize, or raise max_connections on the server." : undefined,
    );
  }
  if (server.code === "XX001" || server.code === "XX002") {
    return fail("storage_corrupt", `PostgreSQL at ${where} reports corrupt data: ${message}`);
  }
  return fail("storage_error", `PostgreSQL at ${where} failed: ${message}`);
}

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = "code" in error ? error.code : undefined;
  if (typeof code === "string" && SOCKET_CODES.has(code)) return true;
  // Node reports a failed connection to a name with several addresses as an AggregateError.
  if (error instanceof AggregateError && error.errors.some(isConnectionFailure)) return true;
  return (
    CONNECTION_MESSAGE.test(error.message) || (error.cause !== undefined && isConnectionFailure(error.cause))
  );
}

function connectionFailed(
  error: unknown,
  message: string,
  details: Record<string, unknown>,
  target: ConnectionTarget,
): AsmError {
  return new AsmError(
    "storage_connection_failed",
    `cannot reach PostgreSQL at ${describeTarget(target)}: ${message}`,
    {
      cause: error,
      details,
      hint: `Check that PostgreSQL is running and accepts connections on ${target.host}:${target.port}.`,
    },
  );
}

/** The message, or the code when there is none (Node's AggregateError for a refused connection). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== "") return error.message;
  const code = "code" in error ? error.code : undefined;
  return typeof code === "string" ? code : error.name;
}
