// Following a session's log live from a cursor: capture where the log stands
// (`getLatestSequence`), then `streamSessionEvents({ after: cursor, follow: true })` yields every
// event stored after it — as the run stores them — until the signal aborts.
//
// Checks: the follower's first event is cursor + 1, its sequences are contiguous and all after
// the cursor, it saw exactly the new run's events (those the result lists) ending with
// run_completed, and nothing of the earlier run.
//
//   npx tsx examples/cursor-follow-stream.ts                    # a scripted Claude CLI
//   npx tsx examples/cursor-follow-stream.ts --provider amp     # the real amp CLI
import type { AsmEvent } from "agent-session-manager";
import { SessionManager } from "agent-session-manager";
import {
  check,
  checkContiguous,
  createMainAgent,
  describeEvent,
  openExampleStore,
  runExample,
} from "./support.js";

runExample(async () => {
  const agent = createMainAgent({ answer: "Hello." });
  const store = await openExampleStore("cursor-follow");
  try {
    const manager = new SessionManager({ store, adapter: agent.adapter });
    const session = await manager.activateSession((await manager.startSession({ agentId: "follower" })).id);
    await manager.executeRun((await manager.startRun(session.id, "Say hello.")).id);

    const cursor = await store.getLatestSequence(session.id);
    console.log(`cursor: ${cursor}`);
    // The follower starts before the run and waits on the store (a long-poll woken by appends).
    const stop = new AbortController();
    const streamed: AsmEvent[] = [];
    let runEnded = false;
    let beforeEnd = 0;
    const following = (async () => {
      for await (const event of manager.streamSessionEvents(session.id, {
        after: cursor,
        follow: true,
        signal: stop.signal,
      })) {
        streamed.push(event);
        if (!runEnded) beforeEnd++;
        if (event.type === "run_completed") stop.abort();
      }
    })();

    agent.play({ command: "ls", commandOutput: "a.txt\n", thinkMs: 300, answer: "One file: a.txt." });
    const run = await manager.startRun(session.id, "Run `ls` and tell me what is there.");
    const result = await manager.executeRun(run.id);
    runEnded = true;
    await following;

    for (const event of streamed) console.log(describeEvent(event));
    checkContiguous(streamed, cursor + 1);
    check(
      streamed.every((event) => event.sequence > cursor),
      "every event after the cursor",
    );
    const runEvents = streamed.filter((event) => event.runId === run.id);
    check(
      runEvents.map((event) => event.id).join() === result.events.map((event) => event.id).join(),
      "the follower saw exactly the new run's events",
    );
    check(streamed.at(-1)?.type === "run_completed", "it ended with run_completed");
    console.log(
      `followed from ${cursor}: #${cursor + 1}..#${streamed.at(-1)?.sequence} contiguous, ${streamed.length} events`,
    );
    // How many arrived while the run was still going depends on scheduling; it is shown, not checked.
    console.log(`(${beforeEnd} of them arrived before executeRun returned)`);
  } finally {
    await store.close();
  }
});
