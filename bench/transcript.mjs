// Transcript: time to build a session's transcript from a 100,000-event log in a SQLite file
// (read + fold + truncation, as `continuation: "replay"` does for a run it has never seen), and
// the cost of an incremental update — `SessionTranscript.update()` after one more turn of 24
// events — against that full rebuild, measured in the same run.
//
//   node --expose-gc bench/transcript.mjs [--events 100000] [--updates 20]
//   (needs a built dist/; writes bench/results/transcript.json)
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildTranscript, SessionTranscript, transcriptFromStore } from "../dist/index.js";
import { openSqliteStore } from "../dist/stores/sqlite/index.js";
import {
  collectGarbage,
  filler,
  formatMs,
  median,
  quantile,
  saveBenchSession,
  tempDir,
  timed,
} from "./lib.mjs";

/** Events of one turn: message_sent, run_started, 18 deltas, message_received, a tool call, run_completed. */
const EVENTS_PER_TURN = 24;
const DELTAS_PER_TURN = 18;
const DELTA_LENGTH = 40;
const FULL_SAMPLES = 5;
/** The limits `continuation` uses by default (DEFAULT_CONTINUATION_OPTIONS). */
const DEFAULT_LIMITS = { maxMessages: 200, maxTokensApprox: 8_000 };
/** Target: an update after one turn costs at most this share of a full rebuild. */
const TARGET = { atMost: 0.05 };

function turnDrafts(sessionId, turn) {
  const runId = `run_bench_${turn}`;
  const base = { sessionId, runId, provider: turn % 2 === 0 ? "claude" : "codex", metadata: {} };
  const at = new Date(Date.UTC(2026, 0, 1) + turn * 1000).toISOString();
  const event = (type, data) => ({ ...base, id: `evt_${randomUUID()}`, timestamp: at, type, data });
  const deltas = Array.from({ length: DELTAS_PER_TURN }, (_, index) =>
    filler(DELTA_LENGTH, `t${turn}d${index}`),
  );
  const toolCallId = `${runId}:call`;
  return [
    event("message_sent", { role: "user", content: filler(120, `question ${turn}`) }),
    event("run_started", { providerSessionId: `native-${turn % 7}` }),
    ...deltas.map((delta) => event("message_streamed", { delta })),
    event("message_received", { role: "assistant", content: deltas.join("") }),
    event("tool_call_started", { toolCallId, toolName: "Read", toolInput: { path: `src/file-${turn}.ts` } }),
    event("tool_call_completed", { toolCallId, toolName: "Read", toolOutput: filler(300, `output ${turn}`) }),
    event("run_completed", {
      stopReason: "end_turn",
      tokenUsage: { inputTokens: 100, outputTokens: 20 },
      durationMs: 1000,
    }),
  ];
}

async function seed(store, sessionId, events) {
  await saveBenchSession(store, sessionId);
  const turns = Math.ceil(events / EVENTS_PER_TURN);
  let batch = [];
  for (let turn = 0; turn < turns; turn += 1) {
    batch.push(...turnDrafts(sessionId, turn));
    if (batch.length >= 960) {
      await store.appendEvents(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.appendEvents(batch);
  return turns;
}

export async function transcriptBench({ events = 100_000, updates = 20 } = {}) {
  const { dir, remove } = tempDir("transcript");
  const store = await openSqliteStore({ path: join(dir, "asm.db") });
  try {
    const sessionId = `ses_bench_${randomUUID()}`;
    let turns = await seed(store, sessionId, events);
    const stored = await store.getLatestSequence(sessionId);

    // Full rebuild from the store, with the default continuation limits and with none.
    const full = { defaultLimitsMs: [], unlimitedMs: [] };
    let checked;
    for (let index = 0; index < FULL_SAMPLES; index += 1) {
      collectGarbage();
      const limited = await timed(() => transcriptFromStore(store, sessionId, DEFAULT_LIMITS));
      full.defaultLimitsMs.push(limited.ms);
      collectGarbage();
      const unlimited = await timed(() => transcriptFromStore(store, sessionId));
      full.unlimitedMs.push(unlimited.ms);
      checked = unlimited.value;
    }
    // Every turn folds into user, assistant and tool: 3 messages a turn, all of them kept.
    if (checked.messages.length !== turns * 3 || checked.cursor !== stored) {
      throw new Error(
        `transcript: ${checked.messages.length} messages for ${turns} turns, cursor ${checked.cursor}/${stored}`,
      );
    }

    // Fold alone (events already in memory), to split the rebuild into reading and folding.
    const all = [];
    for (let after = 0; ; ) {
      const page = await store.getEvents(sessionId, { after, limit: 1000 });
      all.push(...page);
      if (page.length < 1000) break;
      after = page.at(-1).sequence;
    }
    collectGarbage();
    const foldOnly = await timed(() => buildTranscript(all));

    // Incremental: one more turn appended, then update() from the cursor.
    const live = new SessionTranscript(store, sessionId, DEFAULT_LIMITS);
    await live.update();
    const incrementalMs = [];
    for (let index = 0; index < updates; index += 1) {
      await store.appendEvents(turnDrafts(sessionId, turns));
      turns += 1;
      collectGarbage();
      const { ms, value } = await timed(() => live.update());
      incrementalMs.push(ms);
      const last = value.messages.at(-3);
      if (
        value.cursor !== (await store.getLatestSequence(sessionId)) ||
        !last?.content.startsWith(`question ${turns - 1}`)
      ) {
        throw new Error("transcript: the incremental update missed the new turn");
      }
    }
    // The same transcript as a rebuild of the grown log.
    const rebuilt = await transcriptFromStore(store, sessionId, DEFAULT_LIMITS);
    const updated = await live.update();
    if (JSON.stringify(rebuilt) !== JSON.stringify(updated)) {
      throw new Error("transcript: the incremental transcript differs from a full rebuild");
    }

    const fullMedian = median(full.defaultLimitsMs);
    const incrementalMedian = median(incrementalMs);
    const ratio = incrementalMedian / fullMedian;
    const met = ratio <= TARGET.atMost;
    const summary =
      `transcript (${stored} events, ${turns} turns): full rebuild ${formatMs(fullMedian)} (default limits), ` +
      `${formatMs(median(full.unlimitedMs))} (no limits; fold alone ${formatMs(foldOnly.ms)}); ` +
      `update after one turn p50 ${formatMs(incrementalMedian)} / p99 ${formatMs(quantile(incrementalMs, 0.99))}; ` +
      `update/rebuild = ${ratio.toFixed(4)} (target <= ${TARGET.atMost}: ${met ? "met" : "NOT met"})`;
    console.log(summary);
    return {
      figures: {
        events: stored,
        turns,
        eventsPerTurn: EVENTS_PER_TURN,
        limits: DEFAULT_LIMITS,
        fullRebuildMedianMs: fullMedian,
        fullRebuildUnlimitedMedianMs: median(full.unlimitedMs),
        foldOnlyMs: foldOnly.ms,
        incrementalUpdateMedianMs: incrementalMedian,
        incrementalUpdateP99Ms: quantile(incrementalMs, 0.99),
      },
      samples: { full, incrementalMs },
      ratio,
      target: { ...TARGET, met },
      summary,
    };
  } finally {
    await store.close();
    remove();
  }
}

function flag(args, name, fallback) {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const result = await transcriptBench({
    events: flag(args, "--events", 100_000),
    updates: flag(args, "--updates", 20),
  });
  const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, "transcript.json"),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...result }, null, 2)}\n`,
  );
  console.log("results written to bench/results/transcript.json");
  process.exit(0);
}
