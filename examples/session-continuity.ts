// Session continuity: a second run that remembers the first. `continuation: "auto"` resumes the
// provider's own session when the same provider ran the session before (native), and otherwise
// replays the session's transcript — rebuilt from the stored log — in front of the request, so a
// conversation begun on Claude can go on with Codex. Each run records what it carried.
//
//   npx tsx examples/session-continuity.ts                    # scripted Claude, then a scripted Codex
//   npx tsx examples/session-continuity.ts --provider codex   # the real codex CLI (native, then replay)
import {
  MemorySessionStore,
  REPLAY_OPEN,
  type RunResult,
  SessionManager,
  transcriptFromStore,
} from "agent-session-manager";
import { check, createAgent, createMainAgent, type ExampleAgent, runExample } from "./support.js";

const REMEMBER = "Remember: the code is X-42.";
const ASK = "What was the code?";

/** One line saying how a run continued the conversation. */
function describeContinuity(label: string, result: RunResult): string {
  const record = result.continuity;
  if (!record) return `${label}: no continuation`;
  const how =
    record.mode === "native"
      ? `native, resumed ${record.providerSessionId}`
      : record.mode === "replay"
        ? `replay, ${record.messages} messages (~${record.approxTokens} tokens) from ${record.fromRuns?.length} runs`
        : "nothing to carry";
  return `${label} on ${record.provider}: ${how}`;
}

/** What the scripted CLI's last start shows: resumed natively, or given the replayed transcript. */
function scriptedEvidence(agent: ExampleAgent): string | undefined {
  const started = agent.lastInvocation();
  if (!started) return undefined;
  // Claude Code: --resume=<id>; codex exec: resume <thread>; amp: threads continue <thread>.
  const flag = started.argv.find((arg) => arg.startsWith("--resume="));
  const word = started.argv.findIndex((arg) => arg === "resume" || arg === "continue");
  const resumed = flag ?? (word === -1 ? undefined : started.argv.slice(word, word + 2).join(" "));
  const stdin = JSON.stringify(started.stdin);
  return stdin.includes(REPLAY_OPEN) && stdin.includes(`[user] ${REMEMBER}`)
    ? "its stdin began with the replayed conversation"
    : resumed
      ? `it was started with ${resumed}`
      : "it started a fresh session";
}

runExample(async () => {
  const agent = createMainAgent({ answer: "Noted: the code is X-42." });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.startSession({ agentId: "continuity-agent" });
  await manager.activateSession(session.id);

  const first = await (await manager.streamRun(session.id, REMEMBER)).result;
  console.log(`run 1 on ${agent.provider}: ${first.output.content.trim()}`);

  // Same provider, a native session to resume: auto resumes it.
  agent.play({ answer: "The code was X-42." });
  const second = await (await manager.streamRun(session.id, ASK, { continuation: "auto" })).result;
  console.log(describeContinuity("run 2 (auto)", second));
  console.log(`  answer: ${second.output.content.trim()}`);
  check(second.continuity?.mode === "native", "auto resumes the same provider's session");
  check(second.continuity?.providerSessionId === first.providerSessionId, "run 2 resumed run 1's session");
  const nativeEvidence = scriptedEvidence(agent);
  if (nativeEvidence) console.log(`  scripted ${agent.provider}: ${nativeEvidence}`);

  // Replay on request, with a token budget: a fresh provider session given the transcript.
  const third = await (
    await manager.streamRun(session.id, ASK, {
      continuation: "replay",
      continuationOptions: { maxTokensApprox: 4_000 },
    })
  ).result;
  console.log(describeContinuity("run 3 (replay)", third));
  check(
    third.continuity?.mode === "replay" && third.continuity.messages === 4,
    "run 3 replayed both earlier turns",
  );

  // Another provider continues the session (scripted only: --provider names one real CLI).
  if (!agent.live) {
    const other = createAgent(agent.provider === "codex" ? "claude" : "codex", {
      live: false,
      script: { answer: "The code was X-42." },
    });
    const switched = new SessionManager({ store, adapter: other.adapter });
    const fourth = await (await switched.streamRun(session.id, ASK, { continuation: "auto" })).result;
    console.log(describeContinuity("run 4 (auto, switched)", fourth));
    console.log(`  scripted ${other.provider}: ${scriptedEvidence(other)}`);
    check(fourth.continuity?.mode === "replay", "a switch of provider replays the transcript");
    check(
      scriptedEvidence(other)?.startsWith("its stdin began"),
      "the other provider was given the transcript",
    );
  }

  // The transcript itself, as the store rebuilds it (what a replay carries, before its limits).
  const transcript = await transcriptFromStore(store, session.id, { maxTokensApprox: 4_000 });
  console.log(
    `transcript: ${transcript.messages.length} messages, ~${transcript.approxTokens} tokens, ${transcript.runs.length} runs`,
  );
  for (const message of transcript.messages) {
    console.log(`  [${message.role} · ${message.provider}] ${message.content.trim()}`);
  }
  check(transcript.messages[0]?.content === REMEMBER, "the transcript starts with run 1's request");
});
