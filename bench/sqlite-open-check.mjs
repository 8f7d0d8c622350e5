// The SQLite store's open-time page check (`checkPagesOnOpen`, src/stores/sqlite/page-check.ts)
// on a large store: median wall time of `openSqliteStore` + `close` with the check, against the
// same open without it, on one file of --size bytes (default 1 GB) of ~700-character
// message_streamed events, written with raw inserts into a store-created schema. For context it
// also times `PRAGMA quick_check` on the same file. Figures are from the page cache (the file was
// just written); with --cold (root only) one more sample of each follows a dropped page cache.
// The file is deleted at the end. Result: bench/results/sqlite-open-check.json.
//
//   node bench/sqlite-open-check.mjs [--size 1e9] [--samples 5] [--cold]
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { openSqliteStore } from "../dist/stores/sqlite/index.js";
import { filler, formatMs, median, tempDir, timed } from "./lib.mjs";

const Database = createRequire(import.meta.url)("better-sqlite3");
const arg = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const SIZE = arg("size", 1e9);
const SAMPLES = arg("samples", 5);
const COLD = process.argv.includes("--cold");
const EVENTS_PER_SESSION = 1000;

function fill(path) {
  const db = new Database(path);
  const now = new Date().toISOString();
  const session = db.prepare(
    `INSERT INTO sessions (id, agent_id, status, metadata, context, tags, created_at, updated_at, last_sequence)
     VALUES (?, 'bench', 'completed', '{}', '{}', '[]', ?, ?, ${EVENTS_PER_SESSION})`,
  );
  const event = db.prepare(
    `INSERT INTO events (id, session_id, sequence, type, run_id, timestamp, provider, data, metadata)
     VALUES (?, ?, ?, 'message_streamed', 'run_bench', ?, 'shell', ?, '{}')`,
  );
  const writeSession = db.transaction((n) => {
    session.run(`ses_${n}`, now, now);
    for (let sequence = 1; sequence <= EVENTS_PER_SESSION; sequence++) {
      const data = JSON.stringify({ delta: filler(700, `${n}.${sequence}`), stream: "stdout" });
      event.run(`evt_${n}_${sequence}`, `ses_${n}`, sequence, now, data);
    }
  });
  let events = 0;
  for (
    let n = 0;
    statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0) < SIZE;
    n++
  ) {
    writeSession(n);
    events += EVENTS_PER_SESSION;
    if (n % 50 === 0) db.pragma("wal_checkpoint(TRUNCATE)");
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return events;
}

async function openClose(path, checkPagesOnOpen) {
  const { ms } = await timed(async () => (await openSqliteStore({ path, checkPagesOnOpen })).close());
  return ms;
}

function quickCheck(path) {
  const db = new Database(path, { readonly: true });
  try {
    const started = performance.now();
    const [row] = db.pragma("quick_check");
    if (row.quick_check !== "ok") throw new Error(`quick_check: ${row.quick_check}`);
    return performance.now() - started;
  } finally {
    db.close();
  }
}

function dropPageCache() {
  writeFileSync("/proc/sys/vm/drop_caches", "3\n");
}

const { dir, remove } = tempDir("open-check");
try {
  const path = join(dir, "asm.db");
  await (await openSqliteStore({ path })).close();
  const events = fill(path);
  const bytes = statSync(path).size;
  console.log(`store: ${(bytes / 1e9).toFixed(2)} GB, ${events} events`);

  const checked = [];
  const unchecked = [];
  for (let i = 0; i < SAMPLES; i++) {
    unchecked.push(await openClose(path, false));
    checked.push(await openClose(path, true));
  }
  const quick = quickCheck(path);
  const result = {
    bytes,
    events,
    samples: { checked, unchecked },
    medianMs: { checked: median(checked), unchecked: median(unchecked) },
    checkMs: median(checked) - median(unchecked),
    msPerGb: ((median(checked) - median(unchecked)) / bytes) * 1e9,
    ratio: median(checked) / median(unchecked),
    quickCheckMs: quick,
  };
  if (COLD) {
    dropPageCache();
    const coldChecked = await openClose(path, true);
    dropPageCache();
    const coldUnchecked = await openClose(path, false);
    dropPageCache();
    result.cold = { checked: coldChecked, unchecked: coldUnchecked, quickCheck: quickCheck(path) };
  }
  console.log(
    `open+close: ${formatMs(result.medianMs.checked)} with the page check, ${formatMs(result.medianMs.unchecked)} without` +
      ` (check ${formatMs(result.checkMs)}, ${formatMs(result.msPerGb)}/GB; ratio ${result.ratio.toFixed(1)}); PRAGMA quick_check ${formatMs(quick)}`,
  );
  if (result.cold) {
    console.log(
      `cold page cache: ${formatMs(result.cold.checked)} with, ${formatMs(result.cold.unchecked)} without; quick_check ${formatMs(result.cold.quickCheck)}`,
    );
  }
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(
    new URL("./results/sqlite-open-check.json", import.meta.url),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  remove();
}
