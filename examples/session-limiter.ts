// A ConcurrencyLimiter shared by SessionServers: each open server holds a session slot, each
// executing run a run slot. Here two sessions may be open and one run may execute at a time,
// across both servers: the second server's run waits for the first's slot, and a third server
// is refused until a session slot frees up.
//
//   npx tsx examples/session-limiter.ts                   # a scripted Claude CLI
//   npx tsx examples/session-limiter.ts --provider codex  # the real codex CLI
import assert from "node:assert/strict";
import {
  AsmError,
  ConcurrencyLimiter,
  MemorySessionStore,
  SessionManager,
  SessionServer,
} from "agent-session-manager";
import { createMainAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({ answer: "Reviewed.", command: "git diff --stat", thinkMs: 300 });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const limiter = new ConcurrencyLimiter({ maxParallelSessions: 2, maxParallelRuns: 1 });
  const describe = () => {
    const { sessions, runs } = limiter.status();
    return `sessions ${sessions.active}/${sessions.max}, runs ${runs.active}/${runs.max} (${runs.waiting} waiting)`;
  };

  const servers = [
    await SessionServer.start({ manager, limiter, session: { agentId: "reviewer-a" } }),
    await SessionServer.start({ manager, limiter, session: { agentId: "reviewer-b" } }),
  ];
  console.log(`two servers open: ${describe()}`);
  const third = await SessionServer.start({ manager, limiter, session: { agentId: "reviewer-c" } }).catch(
    (error: unknown) => AsmError.from(error),
  );
  console.log(`a third server: ${AsmError.is(third) ? third.code : "started"}`);
  assert.ok(AsmError.is(third, "max_sessions_exceeded"));

  // The limiter's state as each run starts: one run holds the slot, the other waits for it.
  const atStart: number[] = [];
  for (const [index, server] of servers.entries()) {
    await server.subscribe(
      () => {
        atStart.push(limiter.status().runs.active);
        console.log(`  run on server ${index + 1} started: ${describe()}`);
      },
      { types: ["run_started"] },
    );
  }
  const results = await Promise.all(servers.map((server) => server.executeRun("Review the last commit.")));
  for (const server of servers) await server.drain();
  console.log(`both runs completed: ${describe()}`);
  assert.ok(atStart.every((active) => active === 1));
  assert.equal(limiter.status().runs.active, 0);

  // One slot: the runs never overlapped.
  const [first, second] = (await Promise.all(results.map((result) => store.getRun(result.runId)))).sort(
    (a, b) => (a.startedAt ?? "").localeCompare(b.startedAt ?? ""),
  );
  assert.ok(first?.endedAt && second?.startedAt && first.endedAt <= second.startedAt);
  console.log("the runs executed one at a time across the two servers");

  // Closing a server releases its session slot.
  await servers[0]?.close();
  const late = await SessionServer.start({ manager, limiter, session: { agentId: "reviewer-c" } });
  console.log(`after closing server 1, a third server starts: ${describe()}`);
  assert.equal(limiter.status().sessions.active, 2);

  await late.close();
  await servers[1]?.close();
  console.log(`all closed: ${describe()}`);
  assert.equal(limiter.status().sessions.active, 0);
  await store.close();
});
