import { describe, expect, it } from "vitest";
import type { AdapterEvent, AsmEvent } from "../core/events.js";
import type { SessionStore } from "../ports/session-store.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { makeSession, saved } from "../testing/fixtures.js";
import { approxTokens, buildTranscript, messageText } from "./transcript.js";
import { SessionTranscript, transcriptFromStore } from "./transcript-store.js";

/** Stored-looking events: sequence in the order given, run and provider as named. */
function log(
  entries: [runId: string | undefined, provider: string | undefined, event: AdapterEvent][],
): AsmEvent[] {
  return entries.map(
    ([runId, provider, event], index) =>
      ({
        id: `evt_${index + 1}`,
        sessionId: "ses_1",
        sequence: index + 1,
        timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(),
        metadata: {},
        ...(runId ? { runId } : {}),
        ...(provider ? { provider } : {}),
        type: event.type,
        data: event.data,
      }) as AsmEvent,
  );
}

const sent = (content: string): AdapterEvent => ({ type: "message_sent", data: { role: "user", content } });
const delta = (text: string, stream?: string): AdapterEvent => ({
  type: "message_streamed",
  data: { delta: text, ...(stream ? { stream } : {}) },
});
const received = (content: string): AdapterEvent => ({
  type: "message_received",
  data: { role: "assistant", content },
});
const completed: AdapterEvent = {
  type: "run_completed",
  data: { stopReason: "end_turn", tokenUsage: { inputTokens: 1, outputTokens: 1 }, durationMs: 1 },
};

describe("buildTranscript: messages from the log", () => {
  it("folds deltas, pairs tool calls by id (ends in any order), skips thinking, keeps runs and providers", () => {
    const events = log([
      ["run_a", "claude", sent("Remember: the code is X-42.")],
      ["run_a", "claude", delta("thinking about it", "thinking")],
      ["run_a", "claude", delta("Not")],
      ["run_a", "claude", delta("ed")],
      ["run_a", "claude", received("Noted. The code is X-42.")],
      [
        "run_a",
        "claude",
        { type: "tool_call_started", data: { toolCallId: "t1", toolName: "Read", toolInput: { file: "a" } } },
      ],
      [
        "run_a",
        "claude",
        {
          type: "tool_call_started",
          data: { toolCallId: "t2", toolName: "Bash", toolInput: { command: "ls" } },
        },
      ],
      [
        "run_a",
        "claude",
        { type: "tool_call_failed", data: { toolCallId: "t2", toolName: "Bash", errorMessage: "denied" } },
      ],
      [
        "run_a",
        "claude",
        {
          type: "tool_call_completed",
          data: { toolCallId: "t1", toolName: "Read", toolOutput: { lines: 3 } },
        },
      ],
      ["run_a", "claude", completed],
      ["run_b", "codex", sent("What was the code?")],
      ["run_b", "codex", received("")], // empty: dropped
      ["run_b", "codex", delta("X-4")],
      ["run_b", "codex", { type: "run_failed", data: { errorCode: "provider_error", errorMessage: "cut" } }],
    ]);
    // Given shuffled: the transcript follows the sequence, not the array order.
    const transcript = buildTranscript([...events].reverse());
    expect(
      transcript.messages.map((m) => [m.role, m.content, m.runId, m.provider, m.partial ?? false]),
    ).toEqual([
      ["user", "Remember: the code is X-42.", "run_a", "claude", false],
      ["assistant", "Noted. The code is X-42.", "run_a", "claude", false],
      ["tool", '{"lines":3}', "run_a", "claude", false],
      ["tool", "denied", "run_a", "claude", false],
      ["user", "What was the code?", "run_b", "codex", false],
      ["assistant", "X-4", "run_b", "codex", true],
    ]);
    expect(transcript.messages[2]?.toolCall).toEqual({
      id: "t1",
      name: "Read",
      input: { file: "a" },
      status: "completed",
      output: '{"lines":3}',
    });
    expect(transcript.messages[3]?.toolCall).toMatchObject({ id: "t2", status: "failed", output: "denied" });
    expect(transcript.messages[1]?.sequence).toBe(3); // the first delta began it
    expect(transcript.runs).toEqual([
      { runId: "run_a", provider: "claude", messages: 4 },
      { runId: "run_b", provider: "codex", messages: 2 },
    ]);
    expect(transcript.cursor).toBe(14);
    expect(transcript.droppedMessages).toBe(0);
    const texts = transcript.messages.map(messageText);
    expect(transcript.chars).toBe(texts.join("").length);
    expect(transcript.approxTokens).toBe(texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0));
  });

  it("a stream closed by its message_received keeps the streamed text when the message is empty", () => {
    const transcript = buildTranscript(
      log([
        ["r", "p", sent("hi")],
        ["r", "p", delta("hello")],
        ["r", "p", received("")],
      ]),
    );
    expect(transcript.messages.map((m) => [m.role, m.content, m.partial ?? false])).toEqual([
      ["user", "hi", false],
      ["assistant", "hello", false],
    ]);
  });

  it("a tool call paused for approval says so; an unended one stays open; long results are cut", () => {
    const transcript = buildTranscript(
      log([
        ["r", "p", { type: "tool_call_started", data: { toolCallId: "a", toolName: "Bash", toolInput: {} } }],
        [
          "r",
          "p",
          { type: "tool_approval_requested", data: { toolCallId: "a", toolName: "Bash", policyName: "p" } },
        ],
        ["r", "p", { type: "tool_call_started", data: { toolCallId: "b", toolName: "Read", toolInput: {} } }],
        ["r", "p", { type: "tool_call_started", data: { toolCallId: "c", toolName: "Read", toolInput: {} } }],
        [
          "r",
          "p",
          {
            type: "tool_call_completed",
            data: { toolCallId: "c", toolName: "Read", toolOutput: "x".repeat(50) },
          },
        ],
      ]),
      { maxToolOutputChars: 10 },
    );
    expect(transcript.messages.map((m) => m.toolCall?.status)).toEqual([
      "awaiting_approval",
      "open",
      "completed",
    ]);
    expect(transcript.messages[0]?.content).toBe("[execution paused: awaiting human approval]");
    expect(transcript.messages[2]?.content).toBe(`${"x".repeat(10)}[… 40 characters cut]`);
  });

  it("leaves out the excluded run", () => {
    const transcript = buildTranscript(
      log([
        ["a", "p", sent("one")],
        ["b", "p", sent("two")],
      ]),
      { excludeRunId: "b" },
    );
    expect(transcript.messages.map((m) => m.content)).toEqual(["one"]);
  });
});

describe("buildTranscript: truncation keeps the newest whole turns", () => {
  // Three turns of 2 messages; each message is 10 characters (3 tokens at chars/4).
  const turns = log(
    [1, 2, 3].flatMap((n): [string, string, AdapterEvent][] => [
      [`r${n}`, "p", sent(`question ${n}`)],
      [`r${n}`, "p", received(`answer ${n}..`)],
    ]),
  );
  const contents = (options: Parameters<typeof buildTranscript>[1]) =>
    buildTranscript(turns, options).messages.map((m) => m.content);

  it("maxMessages: 3 keeps the last turn only (a turn is never split)", () => {
    expect(contents({ maxMessages: 3 })).toEqual(["question 3", "answer 3.."]);
    expect(buildTranscript(turns, { maxMessages: 3 }).droppedMessages).toBe(4);
    expect(contents({ maxMessages: 4 })).toEqual(["question 2", "answer 2..", "question 3", "answer 3.."]);
  });

  it("maxChars and maxTokensApprox (chars / 4 by default) count whole turns; the tightest limit wins", () => {
    expect(contents({ maxChars: 39 })).toEqual(["question 3", "answer 3.."]);
    expect(contents({ maxChars: 40 })).toHaveLength(4);
    expect(contents({ maxTokensApprox: 11 })).toHaveLength(2); // 3 tokens a message
    expect(contents({ maxTokensApprox: 12 })).toHaveLength(4);
    expect(contents({ maxTokensApprox: 12, maxMessages: 2 })).toHaveLength(2);
    expect(approxTokens("abcde")).toBe(2);
  });

  it("a caller's token counter replaces the estimate", () => {
    const words = (text: string) => text.split(" ").length;
    const transcript = buildTranscript(turns, { maxTokensApprox: 8, countTokens: words });
    expect(transcript.messages).toHaveLength(4);
    expect(transcript.approxTokens).toBe(8);
  });

  it("a newest turn larger than the budget leaves the transcript empty", () => {
    expect(contents({ maxChars: 5 })).toEqual([]);
  });
});

/** The store, counting the events its reads return. */
function counting(store: SessionStore): { store: SessionStore; read: () => number } {
  let read = 0;
  const wrapped = Object.create(store) as SessionStore;
  wrapped.getEvents = async (...args) => {
    const events = await store.getEvents(...args);
    read += events.length;
    return events;
  };
  return { store: wrapped, read: () => read };
}

describe("SessionTranscript: incremental from the store", () => {
  it("reads only the events after its cursor and equals a full rebuild", async () => {
    const memory = new MemorySessionStore();
    const session = await saved(memory, makeSession());
    const append = (runId: string, event: AdapterEvent) =>
      memory.appendEvent({
        id: `evt_${Math.random().toString(36).slice(2)}`,
        sessionId: session.id,
        runId,
        provider: "claude",
        timestamp: new Date().toISOString(),
        metadata: {},
        ...event,
      } as Parameters<SessionStore["appendEvent"]>[0]);
    await append("r1", sent("Remember: the code is X-42."));
    await append("r1", delta("Noted"));
    const { store, read } = counting(memory);
    const transcript = new SessionTranscript(store, session.id);
    const first = await transcript.update();
    expect(first.messages.map((m) => [m.content, m.partial ?? false])).toEqual([
      ["Remember: the code is X-42.", false],
      ["Noted", false],
    ]);
    expect(read()).toBe(2);

    // The stream goes on across the update: the pending message is completed in place.
    await append("r1", delta("."));
    await append("r1", received("Noted."));
    await append("r2", sent("What was the code?"));
    const second = await transcript.update();
    expect(read()).toBe(5);
    expect(second.cursor).toBe(5);
    const full = await transcriptFromStore(memory, session.id);
    expect(second).toEqual(full);
    expect(second.messages.map((m) => m.content)).toEqual([
      "Remember: the code is X-42.",
      "Noted.",
      "What was the code?",
    ]);
    // Per-call limits.
    expect((await transcript.update({ maxMessages: 1 })).messages.map((m) => m.content)).toEqual([
      "What was the code?",
    ]);
    expect(read()).toBe(5);
  });
});
