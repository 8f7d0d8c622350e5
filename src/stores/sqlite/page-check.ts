import Database from "better-sqlite3";
import { AsmError } from "../../core/errors.js";

/**
 * The open-time corruption check: visits every page of every table and index b-tree in the file
 * (`count(*)` over each one, `NOT INDEXED` for a table, `INDEXED BY` for an index), so SQLite
 * loads each page and checks its header — page type, cell count, cell area — without decoding
 * a row. A page overwritten with anything but a b-tree page fails it. Not covered: overflow
 * pages of rows larger than a page, the free-list, and damage inside a well-formed page (cell
 * contents, index order): `PRAGMA integrity_check` finds those, at several times the cost.
 *
 * Cost: one read of the b-trees' pages — for a 1 GB store 0.3–0.8 s from the page cache (idle to
 * loaded 2-core box), the disk's read time of the file when cold (~4 s at 260 MB/s); `PRAGMA
 * quick_check` takes 2.5–3 times as long (see bench/sqlite-open-check.mjs).
 */
export function checkPages(db: Database.Database, path: string): void {
  const trees = db
    .prepare<[], { type: "table" | "index"; name: string; table: string }>(
      `SELECT s.type, s.name, s.tbl_name AS "table" FROM sqlite_schema s
       WHERE s.type IN ('table', 'index') AND s.rootpage > 0
         -- A partial index answers only queries that imply its WHERE: it cannot be counted alone.
         AND NOT EXISTS (SELECT 1 FROM pragma_index_list(s.tbl_name) i WHERE i.name = s.name AND i.partial)`,
    )
    .all();
  for (const tree of trees) {
    const count =
      tree.type === "table"
        ? `SELECT count(*) FROM ${quote(tree.name)} NOT INDEXED`
        : `SELECT count(*) FROM ${quote(tree.table)} INDEXED BY ${quote(tree.name)}`;
    try {
      db.prepare(count).pluck().get();
    } catch (error) {
      if (!(error instanceof Database.SqliteError) || !error.code.startsWith("SQLITE_CORRUPT")) throw error;
      throw new AsmError(
        "storage_corrupt",
        `${path} is damaged: a page of ${tree.type} ${tree.name} is unreadable (${error.message})`,
        {
          cause: error,
          details: { path, sqliteCode: error.code, [tree.type]: tree.name },
          hint:
            "Stop writing to it. Restore it from a backup, or save what is readable with " +
            "`sqlite3 <file> .recover | sqlite3 <new file>`, and move the damaged file away.",
        },
      );
    }
  }
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
