/**
 * A separate OS process working on a PostgreSQL store, for the cross-process tests:
 *
 *   node --import tsx worker.ts append <url> <schema> <sessionId> <count> <idPrefix> [single|mixed|paced]
 *   node --import tsx worker.ts open <url> <schema>
 *
 * `append` writes `count` events with ids `${idPrefix}-${i}`: `single` is one `appendEvent` (one
 * transaction) each; `mixed` alternates single appends with batches of 2 to 8, so commits of
 * several sizes interleave with other writers'; `paced` is `single` with a 2 ms pause between
 * appends, to spread them over time. `open` opens the store with autoMigrate and closes it.
 *
 * With `ASM_WORKER_HANDSHAKE=1` the worker prints "ready" once loaded and waits for a line on
 * stdin before it starts, so a test can start several at the same moment.
 */
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventDraft } from "../../../core/events.js";
import { openPostgresStore } from "../index.js";

const [command, connectionString, schema, ...rest] = process.argv.slice(2);
if (connectionString === undefined || schema === undefined || (command !== "append" && command !== "open")) {
  process.stderr.write("usage: worker.ts append|open <url> <schema> ...\n");
  process.exit(2);
}

if (process.env.ASM_WORKER_HANDSHAKE === "1") {
  process.stdout.write("ready\n");
  await once(process.stdin, "data");
  process.stdin.pause();
}

if (command === "open") {
  const store = await openPostgresStore({ connectionString, schema, autoMigrate: true });
  await store.close();
} else {
  const [sessionId, countText, idPrefix, mode = "single"] = rest;
  const count = Number(countText);
  if (sessionId === undefined || idPrefix === undefined || !Number.isInteger(count) || count < 0) {
    process.stderr.write("usage: worker.ts append <url> <schema> <sessionId> <count> <idPrefix> [mode]\n");
    process.exit(2);
  }
  const draft = (index: number): EventDraft => ({
    id: `${idPrefix}-${index}`,
    type: "message_streamed",
    sessionId,
    timestamp: new Date().toISOString(),
    data: { delta: `from process ${process.pid}` },
    metadata: {},
  });
  const store = await openPostgresStore({ connectionString, schema, poolSize: 2 });
  try {
    let index = 0;
    while (index < count) {
      const batch = mode === "mixed" && index % 2 === 1 ? 2 + (index % 7) : 1;
      const drafts = Array.from({ length: Math.min(batch, count - index) }, (_, offset) =>
        draft(index + offset),
      );
      if (drafts.length === 1 && drafts[0] !== undefined) await store.appendEvent(drafts[0]);
      else await store.appendEvents(drafts);
      index += drafts.length;
      if (mode === "paced") await sleep(2);
    }
  } finally {
    await store.close();
  }
}
