// Long-poll following: `getEvents({ after, waitTimeoutMs })` parks on the store until an event
// after the cursor is stored (woken by the append, not by polling) or the wait runs out. A reader
// keeps only its cursor — the last sequence it received — so it can stop and resume anywhere.
//
// Checks: a long-poll on a quiet log answers `[]` when its wait runs out; during a run, every
// long-poll wakes with events (none times out); a reader that stops half-way and a second one
// that resumes from the first one's last sequence together receive the run's events exactly
// once, contiguous, each naming its provider and timestamp.
//
//   npx tsx examples/cursor-wait-follow.ts                    # a scripted Claude CLI
//   npx tsx examples/cursor-wait-follow.ts --provider claude  # the real claude CLI
import type { AsmEvent } from "agent-session-manager";
import { isTerminalRunEventType, SessionManager } from "agent-session-manager";
import { check, checkContiguous, createMainAgent, openExampleStore, runExample } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({
    command: "ls",
    commandOutput: "a.txt\n",
    thinkMs: 200,
    answer: "One file.",
  });
  const store = await openExampleStore("cursor-wait");
  try {
    const manager = new SessionManager({ store, adapter: agent.adapter });
    const session = await manager.activateSession((await manager.startSession({ agentId: "long-poll" })).id);
    const cursor = await store.getLatestSequence(session.id);

    const quiet = await store.getEvents(session.id, { after: cursor, waitTimeoutMs: 200 });
    check(quiet.length === 0, "a long-poll on a quiet log answers [] when its wait runs out");
    console.log(`quiet log: a 200 ms long-poll after #${cursor} answered [] (no busy polling)`);

    const run = await manager.startRun(session.id, "Run `ls` and tell me what is there.");
    /** Reads with 30 s long-polls from `after` until `until` says stop; returns what it received. */
    const reader = async (after: number, until: (event: AsmEvent) => boolean) => {
      const received: AsmEvent[] = [];
      let polls = 0;
      for (let at = after; ; ) {
        const page = await store.getEvents(session.id, { after: at, runId: run.id, waitTimeoutMs: 30_000 });
        polls++;
        check(page.length > 0, "the long-poll woke with events, not at its timeout");
        for (const event of page) {
          received.push(event);
          at = event.sequence;
          if (until(event)) return { received, polls };
        }
      }
    };
    // The first reader parks before the run starts and stops once the run has started.
    const first = reader(cursor, (event) => event.type === "run_started");
    const result = manager.executeRun(run.id);
    const one = await first;
    const resumeAt = one.received.at(-1)?.sequence ?? cursor;
    console.log(
      `reader 1: ${one.received.length} events in ${one.polls} long-polls, stopped at #${resumeAt}`,
    );
    // A second reader (another process could do the same) resumes from that cursor.
    const two = await reader(resumeAt, (event) => isTerminalRunEventType(event.type));
    console.log(
      `reader 2: resumed after #${resumeAt}, ${two.received.length} events in ${two.polls} long-polls`,
    );
    await result;

    const all = [...one.received, ...two.received];
    for (const event of all)
      console.log(`  #${event.sequence} ${event.type} provider=${event.provider} at ${event.timestamp}`);
    checkContiguous(all, cursor + 1);
    const stored = await store.getEvents(session.id, { runId: run.id });
    check(
      all.map((event) => event.id).join() === stored.map((event) => event.id).join(),
      "each event exactly once",
    );
    check(
      all.every((event) => event.provider === agent.adapter.name && event.timestamp),
      "provider and timestamp",
    );
    console.log(`resumed exactly: #${cursor + 1}..#${all.at(-1)?.sequence}, no gap, no duplicate`);
  } finally {
    await store.close();
  }
});
