// The full lifecycle, step by step: start a session, activate it, start and execute a run, pause
// and resume the session, run again through a run handle (`streamRun`), complete the session.
// Every move is a checked transition, logged as an event.
//
// Checks: the session went pending → active → paused → active → completed, both runs completed
// and were each framed by run_started … run_completed, the handle's events are the run's stored
// events, and the session's log has one contiguous sequence across both runs.
//
//   npx tsx examples/live-session.ts                    # a scripted Claude CLI
//   npx tsx examples/live-session.ts --provider amp     # the real amp CLI
import type { AsmEvent } from "agent-session-manager";
import { MemorySessionStore, SessionManager } from "agent-session-manager";
import { check, checkContiguous, createMainAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({ answer: "Two files: README.md and main.ts." });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });

  const statuses: string[] = [];
  const session = await manager.startSession({ agentId: "lifecycle-demo", tags: ["example"] });
  statuses.push(session.status);
  statuses.push((await manager.activateSession(session.id)).status);

  const first = await manager.startRun(session.id, "List the files of a small project.");
  console.log(`run 1 ${first.status}`);
  const one = await manager.executeRun(first.id);
  console.log(`run 1 completed: ${one.output.content}`);

  statuses.push((await manager.pauseSession(session.id, "waiting for the user")).status);
  statuses.push((await manager.resumeSession(session.id)).status);

  agent.play({ answer: "main.ts is the entry point." });
  const handle = await manager.streamRun(session.id, "Which file is the entry point?");
  const streamed: AsmEvent[] = [];
  for await (const event of handle.events) streamed.push(event);
  const two = await handle.result;
  console.log(`run 2 streamed ${streamed.length} events: ${two.output.content}`);
  check(
    streamed.map((event) => event.id).join() === two.events.map((event) => event.id).join(),
    "the handle streamed the run's stored events",
  );

  statuses.push((await manager.completeSession(session.id)).status);
  console.log(`session: ${statuses.join(" -> ")}`);
  check(statuses.join() === "pending,active,paused,active,completed", "session lifecycle");

  const runs = await store.listRuns(session.id);
  console.log(`runs: ${runs.map((run) => `${run.id} ${run.status}`).join(", ")}`);
  check(runs.length === 2 && runs.every((run) => run.status === "completed"), "two runs completed");
  for (const run of runs) {
    const events = await store.getEvents(session.id, { runId: run.id });
    check(
      events.some((event) => event.type === "run_started"),
      `run ${run.id} started`,
    );
    check(events.at(-1)?.type === "run_completed", `run ${run.id} ends with run_completed`);
  }

  const log = await store.getEvents(session.id, { limit: 1000 });
  checkContiguous(log, 1);
  const sessionEvents = log.filter((event) => event.runId === undefined).map((event) => event.type);
  console.log(`session events: ${sessionEvents.join(" ")}`);
  check(
    sessionEvents.join() ===
      "session_created,session_started,session_paused,session_resumed,session_completed",
    "each session move logged once",
  );
  console.log(`log: ${log.length} events, contiguous`);
});
