// Advanced patterns, section 2: "SessionServer + durable subscriptions + workspace snapshots".
//
// A long-lived session server with two slots and the guide's per-server run options —
// `continuation: "auto"` and a git `workspace` with patches and rollback on failure — a durable
// subscription feeding a streaming UI, two runs executing at once with their events interleaved,
// and a UI that disconnects and resumes from its saved cursor without missing an event. The UI
// shows each run's `workspace_diff_computed`; a follow-up run continues the conversation.
//
// Checks: the UI handled the whole log once each across the reconnect; the two runs overlapped;
// each run's diff (as the subscription delivered it) holds the file it wrote — both runs work in
// one directory at once, so a diff is the directory's change while that run ran and may hold the
// other's file too; the follow-up resumed the provider's session (auto → native).
//
//   npx tsx examples/advanced-patterns-runtime.ts                    # a scripted Claude CLI
//   npx tsx examples/advanced-patterns-runtime.ts --provider claude  # the real claude CLI
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AsmEvent, SubmitRunOptions } from "agent-session-manager";
import { SessionManager, SessionServer } from "agent-session-manager";
import { FileArtifactStore } from "agent-session-manager/artifacts/file";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { check, createMainAgent, initGitRepo, runExample, tempDir } from "./support.js";

type DiffData = Extract<AsmEvent, { type: "workspace_diff_computed" }>["data"];

runExample(async () => {
  const agent = createMainAgent({ answer: "Done.", command: "write the file", thinkMs: 300 });
  // The project the agent works in: a git repository with a commit.
  const project = agent.cwd;
  initGitRepo(project, { "src/parser.ts": "export const parse = (text: string) => text.split(',');\n" });
  const store = await openSqliteStore({ path: path.join(tempDir("advanced-runtime"), "sessions.db") });
  const artifactStore = new FileArtifactStore({ root: tempDir("advanced-runtime-artifacts") });
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const server = await SessionServer.start({
    manager,
    session: { agentId: "workspace-agent" },
    maxConcurrentRuns: 2,
    // Under every run's own options.
    defaultRunOptions: {
      continuation: "auto",
      continuationOptions: { maxMessages: 200, maxTokensApprox: 8_000 },
      workspace: {
        path: project,
        strategy: "git",
        capturePatch: true,
        maxPatchBytes: 1_048_576,
        artifactStore,
        rollbackOnFailure: true,
      },
      metadata: { origin: "streaming-ui" },
    },
  });

  // The streaming UI: a durable subscription from the start of the log. It "disconnects" after a
  // few events, keeping the last sequence it handled.
  const handled: AsmEvent[] = [];
  const diffs = new Map<string, DiffData>();
  const handle = (event: AsmEvent) => {
    handled.push(event);
    show(event);
    if (event.type === "workspace_diff_computed" && event.runId) diffs.set(event.runId, event.data);
  };
  let disconnected!: () => void;
  const disconnect = new Promise<void>((resolve) => {
    disconnected = resolve;
  });
  let connected = true;
  const ui = await server.subscribe(
    (event) => {
      if (!connected) return; // what a dropped connection would not have received
      handle(event);
      if (handled.length === 6) {
        connected = false;
        disconnected();
      }
    },
    { fromSequence: 0 },
  );

  // Two runs that execute concurrently, each asked to write one file.
  const tasks = [
    {
      prompt: "Add tests: create tests/parser.test.ts with one test of parse.",
      file: "tests/parser.test.ts",
      content:
        "import { parse } from '../src/parser';\ntest('splits', () => expect(parse('a,b')).toEqual(['a', 'b']));\n",
    },
    {
      prompt: "Fix lint: create .editorconfig with indent_style = space.",
      file: ".editorconfig",
      content: "[*]\nindent_style = space\n",
    },
  ];
  const [r1, r2] = await Promise.all(tasks.map((task) => server.submitRun(task.prompt, writes(task))));
  check(r1 && r2, "both runs submitted");
  console.log(`submitted 2 runs: ${server.status().inFlightCount} in flight`);

  await disconnect;
  ui.unsubscribe();
  // The UI's saved cursor: the last sequence it handled.
  const lastSeq = handled.at(-1)?.sequence ?? 0;
  console.log(`-- UI disconnected at cursor ${lastSeq}; the runs go on`);
  await Promise.all([server.awaitRun(r1), server.awaitRun(r2)]);

  // A follow-up: the server's `continuation: "auto"` resumes the provider's own session.
  agent.play({ answer: "tests/parser.test.ts and .editorconfig" });
  const r3 = await server.submitRun("Which files did you create? Answer with their paths only.");
  const follow = await server.awaitRun(r3);
  console.log(`-- the runs ended; the UI resumes from sequence ${lastSeq + 1}`);
  const resumed = await server.subscribe({ fromSequence: lastSeq + 1 });
  const latest = await store.getLatestSequence(server.sessionId);
  for await (const event of resumed) {
    handle(event);
    if (event.sequence === latest) break;
  }

  // No events missed or repeated across the reconnect, and the two runs really overlapped.
  const log = await store.getEvents(server.sessionId, { limit: 1000 });
  check(
    handled.map((event) => event.sequence).join() === log.map((event) => event.sequence).join(),
    "the UI handled every event of the log once, in order",
  );
  const [one, two] = await Promise.all([store.getRun(r1), store.getRun(r2)]);
  const overlapped =
    (one.startedAt ?? "") < (two.endedAt ?? "") && (two.startedAt ?? "") < (one.endedAt ?? "");
  console.log(`UI handled ${handled.length} events, the whole log once each; runs overlapped: ${overlapped}`);
  check(overlapped, "the two runs overlapped");
  check(one.metadata.origin === "streaming-ui", "the server's metadata is on the runs");

  // The diffs the UI was shown: each run's holds the file it wrote.
  for (const [at, run] of [r1, r2].entries()) {
    const diff = diffs.get(run);
    const file = tasks[at]?.file ?? "";
    check(diff, `the UI was shown run ${run}'s diff`);
    if (!agent.live) check(diff.paths?.includes(file), `run ${run}'s diff holds ${file}`);
  }
  const continuity = follow.continuity;
  console.log(
    `follow-up: continuation ${continuity?.requested} -> ${continuity?.mode}: ${follow.output.content.trim()}`,
  );
  check(continuity?.mode === "native", "the follow-up resumed the provider's session");

  await server.close();
  await artifactStore.close();
  await store.close();

  /**
   * The scripted CLI does not run commands: at its Bash call, the example writes the file the
   * run was asked for (the real CLI writes it itself).
   */
  function writes(task: { file: string; content: string }): SubmitRunOptions {
    return {
      onEvent: (event) => {
        if (agent.live || event.type !== "tool_call_started") return;
        const file = path.join(project, task.file);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, task.content);
      },
    };
  }
});

function show(event: AsmEvent): void {
  const run = event.runId ? ` (run ${event.runId.slice(-6)})` : "";
  switch (event.type) {
    case "message_streamed":
      process.stdout.write(event.data.delta);
      break;
    case "message_received":
      console.log(`  #${event.sequence} ${event.data.role}: ${event.data.content}${run}`);
      break;
    case "workspace_diff_computed": {
      const { filesChanged, insertions, deletions, paths = [], patchBytes, patchRef } = event.data;
      const patch = patchRef
        ? `, patch stored as ${patchRef}`
        : patchBytes
          ? `, patch inline (${patchBytes} bytes)`
          : "";
      const changed =
        filesChanged === 0
          ? "no change"
          : `${filesChanged} files changed, +${insertions} -${deletions}: ${paths.join(", ")}`;
      console.log(`  #${event.sequence} Workspace: ${changed}${patch}${run}`);
      break;
    }
    default:
      console.log(`  #${event.sequence} ${event.type}${run}`);
  }
}
