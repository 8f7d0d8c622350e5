// Cursor pagination over the durable log: every event a session stores gets the next sequence
// number (1, 2, 3… — assigned by the store, atomically), and any reader can page through the log
// from any cursor with `getEvents({ after, before, limit })`, now or after a restart.
//
// Checks: the log's sequences are contiguous from 1 and `getLatestSequence` is the last one;
// paging by 4 from cursor 0 resumes exactly at cursor + 1 each time and rebuilds the whole log
// (no gap, no duplicate); `before` and `after` bound a window; a cursor past the end is
// `invalid_cursor`.
//
//   npx tsx examples/cursor-pagination.ts                    # a scripted Claude CLI
//   npx tsx examples/cursor-pagination.ts --provider codex   # the real codex CLI
import { AsmError, SessionManager } from "agent-session-manager";
import { check, checkContiguous, createMainAgent, openExampleStore, runExample } from "./support.js";

const PAGE = 4;

runExample(async () => {
  const agent = createMainAgent({ command: "ls", commandOutput: "a.txt\n", answer: "One file: a.txt." });
  const store = await openExampleStore("cursor-pagination");
  try {
    const manager = new SessionManager({ store, adapter: agent.adapter });
    const session = await manager.activateSession((await manager.startSession({ agentId: "pager" })).id);
    for (const prompt of ["List the files here with `ls`.", "List them again."]) {
      await manager.executeRun((await manager.startRun(session.id, prompt)).id);
    }

    const latest = await store.getLatestSequence(session.id);
    const all = await store.getEvents(session.id, { limit: 1000 });
    check(checkContiguous(all, 1) === latest, "the latest sequence is the last event's");
    console.log(`latest sequence: ${latest} (${all.length} events, contiguous from 1)`);

    // Page through from cursor 0: each page starts right after the previous page's last sequence.
    const paged: string[] = [];
    let cursor = 0;
    let pages = 0;
    for (;;) {
      const page = await store.getEvents(session.id, { after: cursor, limit: PAGE });
      if (page.length === 0) break;
      check(page[0]?.sequence === cursor + 1, `page ${pages + 1} resumes at ${cursor + 1}`);
      checkContiguous(page);
      console.log(`  page ${++pages}: ${page.map((event) => `#${event.sequence}`).join(" ")}`);
      paged.push(...page.map((event) => event.id));
      cursor = page.at(-1)?.sequence ?? cursor;
    }
    check(paged.join() === all.map((event) => event.id).join(), "the pages rebuild the log exactly");
    console.log(`pages of ${PAGE}: ${pages} pages, ${paged.length} events, each resumed at cursor + 1`);

    const window = await store.getEvents(session.id, { after: 3, before: 8 });
    check(window.map((event) => event.sequence).join() === "4,5,6,7", "after 3, before 8 is 4..7");
    console.log(`window after 3 before 8: ${window.map((event) => `#${event.sequence}`).join(" ")}`);

    const past = await store.getEvents(session.id, { after: latest + 5 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    check(AsmError.is(past, "invalid_cursor"), "a cursor past the end is invalid_cursor");
    console.log(`after ${latest + 5}: ${past.code}`);
  } finally {
    await store.close();
  }
});
