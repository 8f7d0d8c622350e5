// Cursor page: the time of `getEvents(sessionId, { after, limit: 100 })` in a large session
// against a small one in the same database. Paging by cursor should cost the same wherever the
// cursor is and however long the log: an index seek, not a scan.
import { join } from "node:path";
import { SessionManager } from "../dist/index.js";
import { openSqliteStore } from "../dist/stores/sqlite/index.js";
import { collectGarbage, formatMs, median, quantile, seededRandom, tempDir, timed } from "./lib.mjs";
import { assertContiguousLog, openRawConnection, rawEventAppender } from "./raw-events.mjs";
import { StreamingBenchAdapter, streamDeltas } from "./stream-adapter.mjs";

const PAGE = 100;
const FILL_BATCH = 5_000;
const WARM_UP_PAGES = 50;

/** A session with one run, created through the manager so its rows are exactly the store's own. */
async function createSession(manager) {
  const session = await manager.startSession({ agentId: "bench" });
  await manager.activateSession(session.id);
  const run = await manager.startRun(session.id, "stream");
  return { sessionId: session.id, runId: run.id };
}

/** Tops each session's log up to its target length with raw inserts, as the store would lay them out. */
async function fill(path, store, targets) {
  const db = openRawConnection(path, { bulkLoad: true });
  try {
    const deltas = streamDeltas(200);
    for (const { session, events } of targets) {
      const existing = await store.getLatestSequence(session.sessionId);
      rawEventAppender(db, { ...session, provider: "bench", deltas })(events - existing, FILL_BATCH);
      assertContiguousLog(db, session.sessionId, events, "cursor fill");
      const latest = await store.getLatestSequence(session.sessionId);
      if (latest !== events) {
        throw new Error(`cursor fill: the store's latest sequence is ${latest}, not ${events}`);
      }
    }
    // Leaves the rows in the main file rather than in a long WAL, as a long-lived store would have them.
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/** Fails loudly on a page that is not exactly the `PAGE` events after the cursor. */
function checkPage(page, after) {
  const first = page[0]?.sequence;
  const last = page.at(-1)?.sequence;
  if (page.length !== PAGE || first !== after + 1 || last !== after + PAGE) {
    throw new Error(`page after ${after}: ${page.length} events, sequences ${first}..${last}`);
  }
}

export async function cursorBench({ smallEvents, largeEvents, pages }) {
  const { dir, remove } = tempDir("cursor");
  const path = join(dir, "asm.db");
  const store = await openSqliteStore({ path });
  let rawDb;
  try {
    const manager = new SessionManager({
      store,
      adapter: new StreamingBenchAdapter({ count: 0, perTick: 1, deltaLength: 0 }),
    });
    const small = { session: await createSession(manager), events: smallEvents };
    const large = { session: await createSession(manager), events: largeEvents };
    const { ms: fillMs } = await timed(() => fill(path, store, [small, large]));

    // The same query as a bare prepared statement: what the store adds on top of SQLite.
    rawDb = openRawConnection(path);
    const rawPage = rawDb.prepare(
      `SELECT id, session_id, sequence, type, run_id, timestamp, provider, data, metadata
       FROM events WHERE session_id = ? AND sequence > ? ORDER BY sequence LIMIT ?`,
    );

    const random = seededRandom(42);
    const sides = { small, large };
    const samples = { small: { storeMs: [], rawMs: [] }, large: { storeMs: [], rawMs: [] } };
    collectGarbage();
    // Both sizes and both readers take turns, so drift in machine speed hits them alike.
    for (let i = 0; i < WARM_UP_PAGES + pages; i++) {
      for (const [name, { session, events }] of Object.entries(sides)) {
        const after = Math.floor(random() * (events - PAGE));
        const read = await timed(() => store.getEvents(session.sessionId, { after, limit: PAGE }));
        checkPage(read.value, after);
        const rawRead = await timed(() => rawPage.all(session.sessionId, after, PAGE));
        if (i < WARM_UP_PAGES) continue;
        samples[name].storeMs.push(read.ms);
        samples[name].rawMs.push(rawRead.ms);
      }
    }

    const smallMs = median(samples.small.storeMs);
    const largeMs = median(samples.large.storeMs);
    const rawSmallMs = median(samples.small.rawMs);
    const rawLargeMs = median(samples.large.rawMs);
    return {
      figures: {
        smallEvents,
        largeEvents,
        pages,
        pageSize: PAGE,
        smallMedianMs: smallMs,
        largeMedianMs: largeMs,
        smallP90Ms: quantile(samples.small.storeMs, 0.9),
        largeP90Ms: quantile(samples.large.storeMs, 0.9),
        rawSmallMedianMs: rawSmallMs,
        rawLargeMedianMs: rawLargeMs,
        fillMs,
      },
      samples,
      ratio: largeMs / smallMs,
      summary:
        `cursor page (${PAGE} events, ${pages} pages): ${largeEvents} events ${formatMs(largeMs)}, ` +
        `${smallEvents} events ${formatMs(smallMs)} [raw SELECT ${formatMs(rawLargeMs)} / ${formatMs(rawSmallMs)}; ` +
        `fill ${(fillMs / 1000).toFixed(1)} s]`,
    };
  } finally {
    rawDb?.close();
    await store.close();
    remove();
  }
}
