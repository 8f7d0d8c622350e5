// One renderer, every sink at once: the terminal (TtySink, colours kept), a plain-text log file
// opened beforehand with a header (FileSink on a stream: colours and redraws removed, the stream
// left open), the events as JSON Lines in both forms — full (each stored event) and compact
// (the seed's abbreviations) — and a CallbackSink counting events. Then the files are shown.
//
// Checks: the log is plain text, each JSONL file has a line per event (the full one equal to the
// log), the files are owner-only, and the callback counted as many events.
//
//   npx tsx examples/rendering-multi-sink.ts                        # a scripted Claude CLI
//   npx tsx examples/rendering-multi-sink.ts --mode verbose
//   npx tsx examples/rendering-multi-sink.ts --provider claude      # the real claude CLI
import { createWriteStream, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { finished } from "node:stream/promises";
import {
  CallbackSink,
  CompactRenderer,
  FileSink,
  JsonlSink,
  MemorySessionStore,
  render,
  SessionManager,
  TtySink,
  VerboseRenderer,
} from "agent-session-manager";
import { check, createMainAgent, runExample, tempDir } from "./support.js";

runExample(async () => {
  const mode = process.argv[process.argv.indexOf("--mode") + 1] === "verbose" ? "verbose" : "compact";
  const agent = createMainAgent({
    answer: "Done: one file listed.",
    command: "ls",
    commandOutput: "notes.txt\n",
  });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.startSession({ agentId: "rendering-multi-sink" });
  await manager.activateSession(session.id);
  const handle = await manager.streamRun(session.id, "List the files.");

  const dir = tempDir("multi-sink");
  const files = {
    log: path.join(dir, "run.log"),
    full: path.join(dir, "events.jsonl"),
    compact: path.join(dir, "events.compact.jsonl"),
  };
  const log = createWriteStream(files.log, { mode: 0o600 });
  log.write(`# ${mode} rendering of session ${session.id}\n`);
  let counted = 0;
  const report = await render(handle.events, {
    renderer: mode === "verbose" ? new VerboseRenderer() : new CompactRenderer(),
    sinks: [
      new TtySink(),
      new FileSink({ stream: log }),
      new JsonlSink({ path: files.full }),
      new JsonlSink({ path: files.compact, mode: "compact" }),
      new CallbackSink({
        callback: () => {
          counted += 1;
        },
      }),
    ],
  });
  await handle.result;
  log.end();
  await finished(log);

  const logText = readFileSync(files.log, "utf8");
  const full = readFileSync(files.full, "utf8").trimEnd().split("\n");
  const compact = readFileSync(files.compact, "utf8").trimEnd().split("\n");
  console.log(`\n== ${files.log}\n${logText}`);
  console.log(`== ${files.full} (first 2 of ${full.length})\n${full.slice(0, 2).join("\n")}`);
  console.log(`== ${files.compact} (first 4 of ${compact.length})\n${compact.slice(0, 4).join("\n")}`);

  check(report.failures.length === 0, "no sink failed");
  check(logText.startsWith("# ") && !logText.includes("\u001b"), "the log: its header, then plain text");
  const stored = await store.getEvents(session.id, { after: 2, limit: 1000 });
  check(
    full.length === stored.length && counted === stored.length,
    "a JSONL line per event, and as many callbacks",
  );
  check(
    JSON.stringify(full.map((line) => JSON.parse(line))) === JSON.stringify(stored),
    "the full JSONL is the log",
  );
  check(
    compact.every((line) => /^\{"t":\d+,"e":\{"t":"[a-z_]+"/.test(line)),
    "compact entries {t, e: {t, …}}",
  );
  check(
    [files.log, files.full, files.compact].every((file) => (statSync(file).mode & 0o777) === 0o600),
    "owner-only files",
  );
  console.log(
    `checked: ${stored.length} events to 5 sinks; log plain, JSONL full = the log, compact abbreviated, files 0600`,
  );
});
