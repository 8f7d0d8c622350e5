import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { AsmError } from "../core/errors.js";
import type { JsonObject } from "../core/session.js";
import { createOwnerOnlyFile, makeOwnerOnlyDirectory } from "../stores/shared/owner-only-files.js";
import {
  type AuditAction,
  type AuditEntry,
  type AuditEntryDraft,
  type AuditQuery,
  type AuditStore,
  normalizeAuditQuery,
} from "./audit-store.js";

export interface SqliteAuditStoreOptions {
  /**
   * The database file; it may be the session store's own (`.asm/asm.db`): the trail is a table
   * of its own, `asm_audit_log`. A new file and its directories are created owner-only.
   * `":memory:"` for a private in-memory database.
   */
  path: string;
  /** How long a write waits for another connection's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS asm_audit_log (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  at TEXT NOT NULL,
  action TEXT NOT NULL,
  actor TEXT,
  session_id TEXT,
  run_id TEXT,
  details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS asm_audit_log_session ON asm_audit_log (session_id, sequence);
CREATE INDEX IF NOT EXISTS asm_audit_log_at ON asm_audit_log (at);
`;

interface AuditRow {
  sequence: number;
  id: string;
  at: string;
  action: string;
  actor: string | null;
  session_id: string | null;
  run_id: string | null;
  details: string;
}

/**
 * The audit trail in a SQLite table (`asm_audit_log`), in the session store's file or another.
 * Append-only: nothing here updates or deletes an entry, and session retention never touches it.
 */
export class SqliteAuditStore implements AuditStore {
  private readonly insert: Database.Statement;

  private constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO asm_audit_log (id, at, action, actor, session_id, run_id, details)
       VALUES (@id, @at, @action, @actor, @sessionId, @runId, @details)`,
    );
  }

  static open(options: SqliteAuditStoreOptions): SqliteAuditStore {
    const { path: given, busyTimeoutMs = 5000 } = options;
    if (typeof given !== "string" || given === "") {
      throw new AsmError("validation_error", "path must be a non-empty string", { details: { path: given } });
    }
    const path = given === ":memory:" ? given : resolve(given);
    try {
      if (path !== ":memory:") {
        makeOwnerOnlyDirectory(dirname(path));
        createOwnerOnlyFile(path);
      }
      const db = new Database(path, { timeout: busyTimeoutMs });
      if (path !== ":memory:") db.pragma("journal_mode = WAL");
      db.exec(SCHEMA);
      return new SqliteAuditStore(db);
    } catch (error) {
      throw storageError(error, "open", path);
    }
  }

  async append(entries: readonly AuditEntryDraft[]): Promise<void> {
    try {
      this.db.transaction(() => {
        for (const entry of entries) {
          this.insert.run({
            id: entry.id,
            at: entry.at,
            action: entry.action,
            actor: entry.actor ?? null,
            sessionId: entry.sessionId ?? null,
            runId: entry.runId ?? null,
            details: JSON.stringify(entry.details),
          });
        }
      })();
    } catch (error) {
      throw storageError(error, "append", this.db.name);
    }
  }

  async query(query?: AuditQuery): Promise<AuditEntry[]> {
    const normalized = normalizeAuditQuery(query);
    const where = ["sequence > @after"];
    const params: Record<string, unknown> = { after: normalized.after, limit: normalized.limit };
    if (normalized.actions) {
      const names = normalized.actions.map((_, index) => `@action${index}`);
      normalized.actions.forEach((action, index) => {
        params[`action${index}`] = action;
      });
      where.push(names.length > 0 ? `action IN (${names.join(", ")})` : "0");
    }
    const equal: [keyof AuditQuery, string][] = [
      ["sessionId", "session_id"],
      ["runId", "run_id"],
      ["actor", "actor"],
    ];
    for (const [key, column] of equal) {
      if (normalized[key] === undefined) continue;
      where.push(`${column} = @${key}`);
      params[key] = normalized[key];
    }
    if (normalized.since !== undefined) {
      where.push("at >= @since");
      params.since = normalized.since;
    }
    if (normalized.until !== undefined) {
      where.push("at < @until");
      params.until = normalized.until;
    }
    try {
      const rows = this.db
        .prepare(`SELECT * FROM asm_audit_log WHERE ${where.join(" AND ")} ORDER BY sequence LIMIT @limit`)
        .all(params) as AuditRow[];
      return rows.map(toEntry);
    } catch (error) {
      throw storageError(error, "query", this.db.name);
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    sequence: row.sequence,
    at: row.at,
    action: row.action as AuditAction,
    ...(row.actor !== null ? { actor: row.actor } : {}),
    ...(row.session_id !== null ? { sessionId: row.session_id } : {}),
    ...(row.run_id !== null ? { runId: row.run_id } : {}),
    details: JSON.parse(row.details) as JsonObject,
  };
}

function storageError(error: unknown, operation: string, path: string): AsmError {
  if (AsmError.is(error)) return error;
  const code = (error as { code?: unknown }).code;
  const busy = code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
  return new AsmError(
    busy ? "storage_busy" : "storage_error",
    `audit log ${operation} failed: ${String(error)}`,
    {
      details: { path, operation },
      cause: error,
    },
  );
}
