// Writing events straight into the SQLite store's schema with raw better-sqlite3 statements: the
// baseline for the ingest benchmark, and the fast way to fill a large session for the cursor one.
import Database from "better-sqlite3";
import { newId } from "../dist/core/index.js";

/**
 * A second connection to a store's file, with the store's own settings (WAL is a property of the
 * file; synchronous and foreign keys are per connection), so it pays the same costs per commit
 * and per row. `bulkLoad` is for filling a throwaway database fast instead: no fsync at all and
 * a page cache big enough to hold the indexes, which are written in random order (random ids).
 */
export function openRawConnection(path, { bulkLoad = false } = {}) {
  const db = new Database(path);
  db.pragma(bulkLoad ? "synchronous = OFF" : "synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  if (bulkLoad) db.pragma("cache_size = -262144"); // KiB: 256 MiB
  return db;
}

/**
 * Appends `message_streamed` events to one session the way the store lays them out: sequences
 * reserved by bumping `sessions.last_sequence`, one row per event with JSON `data`/`metadata`,
 * fresh `evt_` ids and ISO timestamps, `batchSize` rows per IMMEDIATE transaction.
 * Building each row's values (id, timestamp, JSON) is part of the cost, as it is for any store.
 */
export function rawEventAppender(db, { sessionId, runId, provider, deltas }) {
  const reserve = db
    .prepare("UPDATE sessions SET last_sequence = last_sequence + ? WHERE id = ? RETURNING last_sequence")
    .pluck();
  const insert = db.prepare(
    `INSERT INTO events (id, session_id, sequence, type, run_id, timestamp, provider, data, metadata)
     VALUES (?, ?, ?, 'message_streamed', ?, ?, ?, ?, '{}')`,
  );
  const appendBatch = db.transaction((count) => {
    const last = reserve.get(count, sessionId);
    for (let sequence = last - count + 1; sequence <= last; sequence++) {
      const data = JSON.stringify({ delta: deltas[sequence % deltas.length] });
      insert.run(newId("evt"), sessionId, sequence, runId, new Date().toISOString(), provider, data);
    }
  });
  return (total, batchSize) => {
    for (let written = 0; written < total; written += batchSize) {
      appendBatch.immediate(Math.min(batchSize, total - written));
    }
  };
}

/**
 * Fails unless the session's log holds exactly `expected` events numbered 1..expected (the
 * schema makes sequences unique, so the count and both ends prove them contiguous). Returns
 * the counts, with how many are `message_streamed`.
 */
export function assertContiguousLog(db, sessionId, expected, what) {
  const stats = db
    .prepare(
      `SELECT count(*) AS count, min(sequence) AS minSequence, max(sequence) AS maxSequence,
              sum(type = 'message_streamed') AS streamed
       FROM events WHERE session_id = ?`,
    )
    .get(sessionId);
  if (stats.count !== expected || stats.minSequence !== 1 || stats.maxSequence !== expected) {
    throw new Error(`${what}: expected sequences 1..${expected}, found ${JSON.stringify(stats)}`);
  }
  return stats;
}
