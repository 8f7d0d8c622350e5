import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { subjectOf } from "./nats/nats-pubsub.js";
import {
  assertTopic,
  encodeTopicSegment,
  runTopic,
  sessionTopic,
  topicsForEvent,
  typeTopic,
} from "./topics.js";

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return AsmError.is(error) ? error.code : "not an AsmError";
  }
  return undefined;
}

describe("topics", () => {
  it("follow the seed's scheme, generated ids unchanged", () => {
    expect(sessionTopic("ses_0193abc")).toBe("asm:session:ses_0193abc");
    expect(runTopic("ses_1", "run_2")).toBe("asm:session:ses_1:run:run_2");
    expect(typeTopic("ses_1", "tool_call_started")).toBe("asm:session:ses_1:type:tool_call_started");
    expect(sessionTopic("ses_1", { prefix: "app-1" })).toBe("app-1:session:ses_1");
  });

  it("escape every byte outside [A-Za-z0-9_-], so an id cannot forge another topic or subject", () => {
    expect(encodeTopicSegment("a:run:b")).toBe("a%3Arun%3Ab");
    expect(encodeTopicSegment("x.y *>%")).toBe("x%2Ey%20%2A%3E%25");
    expect(encodeTopicSegment("é")).toBe("%C3%A9");
    expect(runTopic("a:run:b", "c")).not.toBe(runTopic("a", "b:run:c"));
    expect(subjectOf(runTopic("s.1", "r>"))).toBe("asm.session.s%2E1.run.r%3E");
    expect(codeOf(() => encodeTopicSegment(""))).toBe("validation_error");
    expect(codeOf(() => sessionTopic("s", { prefix: "a:b" }))).toBe("validation_error");
  });

  it("put an event on the topics of the scopes asked for; an event of no run has no run topic", () => {
    const event = { sessionId: "ses_1", runId: "run_1", type: "run_started" } as AsmEvent;
    expect(topicsForEvent(event, ["session", "run", "type"])).toEqual([
      "asm:session:ses_1",
      "asm:session:ses_1:run:run_1",
      "asm:session:ses_1:type:run_started",
    ]);
    const sessionEvent = { sessionId: "ses_1", type: "session_started" } as AsmEvent;
    expect(topicsForEvent(sessionEvent, ["run", "session"])).toEqual(["asm:session:ses_1"]);
  });

  it("accept only topics of the grammar", () => {
    for (const topic of ["asm:session:x", "a", "a%20b:c-d_e"])
      expect(codeOf(() => assertTopic(topic))).toBeUndefined();
    for (const topic of ["", ":", "a:", "a b", "a.b", "a:*", "a:>", "x".repeat(1025)]) {
      expect(codeOf(() => assertTopic(topic))).toBe("validation_error");
    }
  });
});
