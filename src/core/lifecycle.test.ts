import { describe, expect, it } from "vitest";
import { AsmError } from "./errors.js";
import { RUN_STATUSES, RUN_TRANSITIONS, type Run, transitionRun } from "./run.js";
import { SESSION_STATUSES, SESSION_TRANSITIONS, type Session, transitionSession } from "./session.js";

const session: Session = {
  id: "ses_1",
  agentId: "a",
  status: "pending",
  metadata: {},
  context: {},
  tags: [],
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
};

const run: Run = {
  id: "run_1",
  sessionId: "ses_1",
  status: "pending",
  input: { prompt: "x" },
  metadata: {},
  turnCount: 0,
  tokenUsage: { inputTokens: 0, outputTokens: 0 },
  costUsd: null,
  providerMetadata: {},
  createdAt: "2026-01-01T00:00:00.000Z",
};

describe("session transitions", () => {
  it("allows exactly the table's moves and rejects every other pair", () => {
    for (const from of SESSION_STATUSES) {
      for (const to of SESSION_STATUSES) {
        const attempt = () => transitionSession({ ...session, status: from }, to);
        if (SESSION_TRANSITIONS[from].includes(to)) {
          expect(attempt().status).toBe(to);
        } else {
          expect(attempt).toThrowError(expect.objectContaining({ code: "invalid_transition" }));
        }
      }
    }
  });

  it("stamps updatedAt and names the illegal move", () => {
    const now = new Date("2026-02-02T00:00:00.000Z");
    expect(transitionSession(session, "active", now).updatedAt).toBe(now.toISOString());
    try {
      transitionSession({ ...session, status: "completed" }, "active");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AsmError);
      expect((error as AsmError).details).toEqual({
        entity: "session",
        id: "ses_1",
        from: "completed",
        to: "active",
        allowed: [],
      });
    }
  });
});

describe("run transitions", () => {
  it("allows exactly the table's moves and rejects every other pair", () => {
    for (const from of RUN_STATUSES) {
      for (const to of RUN_STATUSES) {
        const attempt = () => transitionRun({ ...run, status: from }, to);
        if (RUN_TRANSITIONS[from].includes(to)) expect(attempt().status).toBe(to);
        else expect(attempt).toThrowError(expect.objectContaining({ code: "invalid_transition" }));
      }
    }
  });

  it("stamps startedAt on running and endedAt on a terminal status", () => {
    const started = transitionRun(run, "running", new Date("2026-01-01T00:00:01.000Z"));
    expect(started.startedAt).toBe("2026-01-01T00:00:01.000Z");
    expect(started.endedAt).toBeUndefined();
    const ended = transitionRun(started, "timeout", new Date("2026-01-01T00:00:02.000Z"));
    expect(ended.endedAt).toBe("2026-01-01T00:00:02.000Z");
    expect(ended.startedAt).toBe("2026-01-01T00:00:01.000Z");
  });
});
