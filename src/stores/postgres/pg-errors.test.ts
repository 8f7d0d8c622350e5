import pg from "pg";
import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { ConnectionTarget } from "./pg-driver.js";
import { isDuplicateEventId, toStorageError } from "./pg-errors.js";

const target: ConnectionTarget = { host: "db.internal", port: 5433, database: "app", schema: "asm" };

function serverError(code: string, fields: Partial<pg.DatabaseError> = {}): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(`server said ${code}`, 0, "error"), {
    severity: "ERROR",
    code,
    ...fields,
  });
}

describe("toStorageError", () => {
  it("passes AsmErrors through", () => {
    const error = new AsmError("session_not_found", "gone");
    expect(toStorageError(error, target)).toBe(error);
  });

  it.each([
    ["40001", "storage_busy"],
    ["40P01", "storage_busy"],
    ["55P03", "storage_busy"],
    ["3F000", "migration_required"],
    ["42P01", "migration_required"],
    ["22P05", "validation_error"],
    ["57P01", "storage_connection_failed"],
    ["08006", "storage_connection_failed"],
    ["53300", "storage_connection_failed"],
    ["28P01", "storage_connection_failed"],
    ["XX001", "storage_corrupt"],
    ["42601", "storage_error"],
  ])("maps SQLSTATE %s to %s", (code, expected) => {
    const mapped = toStorageError(serverError(code), target);
    expect(mapped.code).toBe(expected);
    expect(mapped.details).toMatchObject({ sqlState: code, host: "db.internal", schema: "asm" });
    expect(mapped.cause).toBeInstanceOf(pg.DatabaseError);
  });

  it("maps unique violations: an event sequence taken twice is corruption, anything else already_exists", () => {
    expect(toStorageError(serverError("23505", { constraint: "runs_pkey" }), target).code).toBe(
      "already_exists",
    );
    expect(
      toStorageError(serverError("23505", { constraint: "events_session_id_sequence_key" }), target).code,
    ).toBe("storage_corrupt");
    expect(isDuplicateEventId(serverError("23505", { constraint: "events_pkey" }))).toBe(true);
    expect(isDuplicateEventId(serverError("23505", { constraint: "runs_pkey" }))).toBe(false);
  });

  it("maps a foreign key violation to session_not_found, naming the session", () => {
    const error = serverError("23503", {
      detail: 'Key (session_id)=(ses_gone) is not present in table "sessions".',
    });
    const mapped = toStorageError(error, target);
    expect(mapped.code).toBe("session_not_found");
    expect(mapped.details).toEqual({ sessionId: "ses_gone" });
  });

  it("maps socket and pg client connection failures to a retryable storage_connection_failed", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:5433"), { code: "ECONNREFUSED" });
    const failures = [
      refused,
      new AggregateError([refused], ""),
      new Error("Connection terminated unexpectedly"),
      new Error("timeout exceeded when trying to connect"),
      new Error("Connection terminated due to connection timeout", { cause: new Error("timeout") }),
    ];
    for (const failure of failures) {
      const mapped = toStorageError(failure, target);
      expect(mapped.code, failure.message).toBe("storage_connection_failed");
      expect(mapped.retryable).toBe(true);
      expect(mapped.hint).toContain("db.internal:5433");
      expect(mapped.message).not.toMatch(/: $/);
    }
  });

  it("maps anything else to storage_error", () => {
    expect(toStorageError(new TypeError("boom"), target).code).toBe("storage_error");
    expect(toStorageError("a string", target).code).toBe("storage_error");
  });
});
