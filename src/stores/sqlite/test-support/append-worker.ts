/**
 * Appends events to a SQLite store from a separate process, for the cross-process tests:
 *
 *   node --import tsx append-worker.ts <dbPath> <sessionId> <count> [idPrefix]
 *
 * One `appendEvent` (one transaction) per event, ids `${idPrefix}-${i}`, so its commits
 * interleave with other writers'.
 */
import { openSqliteStore } from "../index.js";

const [path, sessionId, countText, idPrefix = `worker-${process.pid}`] = process.argv.slice(2);
const count = Number(countText);
if (path === undefined || sessionId === undefined || !Number.isInteger(count) || count < 0) {
  process.stderr.write("usage: append-worker.ts <dbPath> <sessionId> <count> [idPrefix]\n");
  process.exit(2);
}

const store = await openSqliteStore({ path });
try {
  for (let index = 0; index < count; index++) {
    await store.appendEvent({
      id: `${idPrefix}-${index}`,
      type: "message_streamed",
      sessionId,
      timestamp: new Date().toISOString(),
      data: { delta: `from process ${process.pid}` },
      metadata: {},
    });
  }
} finally {
  await store.close();
}
