import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import {
  type EventSink,
  type ExecuteRequest,
  type ExecuteResult,
  PROVIDER_ADAPTER_SPECIFICATION,
  type ProviderAdapter,
} from "../ports/provider-adapter.js";
import { ProviderRouter } from "../routing/provider-router.js";
import { SessionServer } from "../runtime/session-server.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { REPLAY_CLOSE, REPLAY_OPEN, REPLAY_PREAMBLE } from "./replay-format.js";

/**
 * An agent that remembers nothing itself: it records each request, announces a native session
 * (`<name>-session-<n>`, or the one it was asked to resume) and answers with a scripted text.
 */
class FakeAgent implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly capabilities = [];
  readonly requests: ExecuteRequest[] = [];

  constructor(
    readonly name: string,
    private readonly answer: (request: ExecuteRequest) => string = () => "Noted.",
    private readonly resumeOption?: string,
  ) {}

  async execute(request: ExecuteRequest, sink: EventSink): Promise<ExecuteResult> {
    this.requests.push(request);
    const own = request.providerOptions[this.name] ?? {};
    const resumed = this.resumeOption ? own[this.resumeOption] : undefined;
    const providerSessionId =
      typeof resumed === "string" ? resumed : `${this.name}-session-${this.requests.length}`;
    sink.emit({ type: "run_started", data: { providerSessionId } });
    const text = this.answer(request);
    sink.emit({ type: "message_streamed", data: { delta: text } });
    sink.emit({ type: "message_received", data: { role: "assistant", content: text } });
    return { output: { content: text }, providerSessionId };
  }

  async cancel(): Promise<boolean> {
    return false;
  }
}

const claude = () => new FakeAgent("claude", () => "Noted: X-42.", "resumeSessionId");
const codex = () => new FakeAgent("codex", () => "It was X-42.", "resumeThreadId");

async function session(manager: SessionManager): Promise<string> {
  const created = await manager.startSession({ agentId: "continuity" });
  await manager.activateSession(created.id);
  return created.id;
}

/** The prompt the adapter was given for its last run. */
const lastPrompt = (agent: FakeAgent) => agent.requests.at(-1)?.run.input.prompt;

describe("continuation: replay", () => {
  it("puts the session's earlier exchange before the request; the log keeps the request as asked", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const id = await session(manager);
    const first = await (await manager.streamRun(id, "Remember: the code is X-42.")).result;
    expect(first.continuity).toBeUndefined();

    const handle = await manager.streamRun(id, "What was the code?", { continuation: "replay" });
    const second = await handle.result;
    expect(lastPrompt(agent)).toBe(
      [
        REPLAY_OPEN,
        REPLAY_PREAMBLE,
        "",
        "[user] Remember: the code is X-42.",
        "",
        "[assistant] Noted: X-42.",
        REPLAY_CLOSE,
        "",
        "What was the code?",
      ].join("\n"),
    );
    // Nothing native: the adapter was not asked to resume.
    expect(agent.requests.at(-1)?.providerOptions).toEqual({});
    expect(second.continuity).toEqual({
      requested: "replay",
      mode: "replay",
      provider: "claude",
      messages: 2,
      approxTokens:
        Math.ceil("Remember: the code is X-42.".length / 4) + Math.ceil("Noted: X-42.".length / 4),
      chars: "Remember: the code is X-42.".length + "Noted: X-42.".length,
      droppedMessages: 0,
      fromRuns: [first.runId],
    });
    const run = await store.getRun(second.runId);
    expect(run.metadata.continuity).toEqual(second.continuity);
    // The stored run input and its message_sent are the request only, never the replay block.
    expect(run.input).toEqual({ prompt: "What was the code?" });
    const sent = await store.getEvents(id, { types: ["message_sent"], runId: second.runId });
    expect(sent.map((event) => event.data)).toEqual([{ role: "user", content: "What was the code?" }]);
  });

  it("the transcript of a third run holds both earlier exchanges once each (no nested replay)", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const id = await session(manager);
    await (await manager.streamRun(id, "one")).result;
    await (await manager.streamRun(id, "two", { continuation: "replay" })).result;
    const third = await (await manager.streamRun(id, "three", { continuation: "replay" })).result;
    expect(third.continuity?.messages).toBe(4);
    expect(lastPrompt(agent)?.split(REPLAY_OPEN)).toHaveLength(2);
    expect(lastPrompt(agent)).toContain("[user] one\n\n[assistant] Noted: X-42.\n\n[user] two\n\n");
  });

  it("limits: the newest whole turns within continuationOptions; the rest counted as dropped", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const id = await session(manager);
    await (await manager.streamRun(id, "first question")).result;
    await (await manager.streamRun(id, "second question")).result;
    const result = await (
      await manager.streamRun(id, "third", {
        continuation: "replay",
        continuationOptions: { maxMessages: 3 },
      })
    ).result;
    expect(result.continuity).toMatchObject({ messages: 2, droppedMessages: 2 });
    expect(lastPrompt(agent)).toContain("[user] second question");
    expect(lastPrompt(agent)).not.toContain("first question");
  });

  it("a first run has nothing to carry: mode none, request untouched", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const result = await manager.runOnce("hello", { continuation: "auto" });
    expect(result.continuity).toEqual({ requested: "auto", mode: "none", provider: "claude" });
    expect(lastPrompt(agent)).toBe("hello");
  });

  it("a messages input gets the block as its first message", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const id = await session(manager);
    await (await manager.streamRun(id, "Remember: the code is X-42.")).result;
    await (
      await manager.streamRun(
        id,
        { messages: [{ role: "user", content: "What was the code?" }] },
        { continuation: "replay" },
      )
    ).result;
    const messages = agent.requests.at(-1)?.run.input.messages ?? [];
    expect(messages).toHaveLength(2);
    expect(messages[0]?.content.startsWith(REPLAY_OPEN)).toBe(true);
    expect(messages[1]).toEqual({ role: "user", content: "What was the code?" });
  });
});

describe("continuation: native and auto", () => {
  it("native resumes the provider session the session's last run on that provider recorded", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const id = await session(manager);
    const first = await (await manager.streamRun(id, "Remember: the code is X-42.")).result;
    expect(first.providerSessionId).toBe("claude-session-1");
    const second = await (await manager.streamRun(id, "What was the code?", { continuation: "native" }))
      .result;
    expect(agent.requests.at(-1)?.providerOptions).toEqual({
      claude: { resumeSessionId: "claude-session-1" },
    });
    expect(lastPrompt(agent)).toBe("What was the code?");
    expect(second.continuity).toEqual({
      requested: "native",
      mode: "native",
      provider: "claude",
      providerSessionId: "claude-session-1",
    });
    expect((await store.getRun(second.runId)).metadata.continuity).toEqual(second.continuity);
  });

  it("native keeps a resume id the caller gave", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const result = await manager.runOnce("go on", {
      continuation: "native",
      providerOptions: { claude: { resumeSessionId: "mine", model: "m" } },
    });
    expect(agent.requests.at(-1)?.providerOptions).toEqual({
      claude: { resumeSessionId: "mine", model: "m" },
    });
    expect(result.continuity).toMatchObject({ mode: "native", providerSessionId: "mine" });
  });

  it("native with nothing to resume fails the run with invalid_operation; the provider never runs", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const error = await manager
      .runOnce("go on", { continuation: "native" })
      .catch((caught: unknown) => caught);
    expect(AsmError.is(error) && error.code).toBe("invalid_operation");
    expect(AsmError.is(error) && error.hint).toContain('"auto"');
    expect(agent.requests).toHaveLength(0);
  });

  it("native on a provider that cannot resume is capability_not_supported before anything runs", async () => {
    const store = new MemorySessionStore();
    const agent = new FakeAgent("shell");
    const manager = new SessionManager({ store, adapter: agent });
    const error = await manager.runOnce("ls", { continuation: "native" }).catch((caught: unknown) => caught);
    expect(AsmError.is(error) && error.code).toBe("capability_not_supported");
    expect(agent.requests).toHaveLength(0);
  });

  it("auto: native on the same provider, replay after a switch to another provider (Claude → Codex)", async () => {
    const store = new MemorySessionStore();
    const claudeAgent = claude();
    const codexAgent = codex();
    const onClaude = new SessionManager({ store, adapter: claudeAgent });
    const onCodex = new SessionManager({ store, adapter: codexAgent });
    const id = await session(onClaude);
    await (await onClaude.streamRun(id, "Remember: the code is X-42.")).result;

    const again = await (await onClaude.streamRun(id, "Still there?", { continuation: "auto" })).result;
    expect(again.continuity).toMatchObject({ mode: "native", providerSessionId: "claude-session-1" });

    const switched = await (await onCodex.streamRun(id, "What was the code?", { continuation: "auto" }))
      .result;
    expect(switched.continuity).toMatchObject({
      requested: "auto",
      mode: "replay",
      provider: "codex",
      messages: 4,
    });
    expect(codexAgent.requests.at(-1)?.providerOptions).toEqual({});
    expect(lastPrompt(codexAgent)).toContain(
      "[user] Remember: the code is X-42.\n\n[assistant] Noted: X-42.",
    );

    // Back on Codex: now it has its own thread to resume.
    const back = await (await onCodex.streamRun(id, "And now?", { continuation: "auto" })).result;
    expect(back.continuity).toMatchObject({ mode: "native", providerSessionId: "codex-session-1" });
    expect(codexAgent.requests.at(-1)?.providerOptions).toEqual({
      codex: { resumeThreadId: "codex-session-1" },
    });
  });

  it("through a SessionServer: its default run options carry continuation to every submitted run", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const server = await SessionServer.start({
      manager,
      session: { agentId: "continuity" },
      defaultRunOptions: { continuation: "replay", continuationOptions: { maxMessages: 50 } },
    });
    try {
      const first = await server.executeRun("Remember: the code is X-42.");
      expect(first.continuity).toMatchObject({ mode: "none" });
      const second = await server.executeRun("What was the code?");
      expect(second.continuity).toMatchObject({ mode: "replay", messages: 2, fromRuns: [first.runId] });
      expect(lastPrompt(agent)).toContain("[user] Remember: the code is X-42.");
      const third = await server.executeRun("And now?", { continuation: "native" });
      expect(third.continuity).toMatchObject({ mode: "native", providerSessionId: "claude-session-2" });
    } finally {
      await server.close();
    }
  });

  it("behind a router: auto replays to whichever provider it picks; native is capability_not_supported", async () => {
    const store = new MemorySessionStore();
    const claudeAgent = claude();
    const onClaude = new SessionManager({ store, adapter: claudeAgent });
    const id = await session(onClaude);
    await (await onClaude.streamRun(id, "Remember: the code is X-42.")).result;

    const codexAgent = codex();
    const router = new ProviderRouter({ prefer: ["codex"] });
    router.register("codex", codexAgent);
    const routed = new SessionManager({ store, adapter: router });
    const result = await (await routed.streamRun(id, "What was the code?", { continuation: "auto" })).result;
    expect(result.continuity).toMatchObject({
      requested: "auto",
      mode: "replay",
      provider: "router",
      messages: 2,
    });
    expect(lastPrompt(codexAgent)).toContain("[user] Remember: the code is X-42.");

    const error = await (await routed.streamRun(id, "again", { continuation: "native" })).result.catch(
      (caught: unknown) => caught,
    );
    expect(AsmError.is(error) && error.code).toBe("capability_not_supported");
    expect(codexAgent.requests).toHaveLength(1);
  });

  it("absent or false: the request is as before (no resume, no replay, no record)", async () => {
    const store = new MemorySessionStore();
    const agent = claude();
    const manager = new SessionManager({ store, adapter: agent });
    const id = await session(manager);
    await (await manager.streamRun(id, "one")).result;
    const off = await (await manager.streamRun(id, "two", { continuation: false })).result;
    expect(off.continuity).toBeUndefined();
    expect(lastPrompt(agent)).toBe("two");
    expect(agent.requests.at(-1)?.providerOptions).toEqual({});
    expect((await store.getRun(off.runId)).metadata).not.toHaveProperty("continuity");
  });

  it("bad options are a validation_error and the run stays pending", async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store, adapter: claude() });
    const id = await session(manager);
    const run = await manager.startRun(id, "x");
    for (const options of [
      { continuation: true },
      { continuation: "resume" },
      { continuation: "replay", continuationOptions: { maxMessages: 0 } },
      { continuation: "replay", continuationOptions: { budget: 1 } },
    ]) {
      const error = await manager
        .executeRun(run.id, options as Parameters<SessionManager["executeRun"]>[1])
        .catch((caught: unknown) => caught);
      expect(AsmError.is(error) && error.code).toBe("validation_error");
    }
    expect((await store.getRun(run.id)).status).toBe("pending");
  });
});
