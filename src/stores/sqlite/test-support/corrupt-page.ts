import { closeSync, openSync, writeSync } from "node:fs";
import Database from "better-sqlite3";
import { event, session } from "../../test-support/fixtures.js";
import { openSqliteStore } from "../index.js";

/**
 * Writes a closed store at `path` with `count` events of ~500 bytes in one session: a few hundred
 * pages of the events table, so it has a middle.
 */
export async function writeStoreWithEvents(path: string, count: number): Promise<void> {
  const store = await openSqliteStore({ path });
  try {
    await store.saveSession(session("ses_big"));
    const drafts = Array.from({ length: count }, (_, index) =>
      event("ses_big", `evt_${index}`, { data: { delta: `${index} ${"x".repeat(500)}` } }),
    );
    await store.appendEvents(drafts);
  } finally {
    // The last connection's close checkpoints the WAL into the file, so the pages are in it.
    await store.close();
  }
}

/**
 * Overwrites the middle leaf page of `table` in the (closed) database at `path` with garbage, as
 * a bad sector or a stray write would; returns that page's number.
 */
export function corruptMiddleLeafPage(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  let pageSize: number;
  let leaves: number[];
  try {
    pageSize = Number(db.pragma("page_size", { simple: true }));
    leaves = db
      .prepare<[string], number>(
        "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
      )
      .pluck()
      .all(table);
  } finally {
    db.close();
  }
  const page = leaves[Math.floor(leaves.length / 2)];
  if (page === undefined) throw new Error(`${table} has no leaf pages in ${path}`);
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
  return page;
}
